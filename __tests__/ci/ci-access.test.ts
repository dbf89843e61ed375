import { Testing } from "cdktf";
import { ApiStack } from "../../stacks/api-stack";
import { prod } from "../../environments/environments";
import { deployPermissions, env, only, resources, synth, TfJson } from "../support/helpers";

const REPO = "acme/rest-api";
const OIDC = "token.actions.githubusercontent.com";

function ciRole(tf: TfJson): Record<string, any> {
  return resources(tf, "aws_iam_role").find((r) => r.name.endsWith("-ci-deploy"))!;
}

function ciPolicy(tf: TfJson, name: string): { Statement: Record<string, any>[] } {
  const role = Object.entries(tf.resource.aws_iam_role).find(([, r]) => r.name.endsWith("-ci-deploy"))![0];
  const policy = resources(tf, "aws_iam_role_policy").find((p) => p.role === `\${aws_iam_role.${role}.id}` && p.name === name);
  if (!policy) throw new Error(`no policy ${name} on the CI role`);
  return JSON.parse(policy.policy);
}

const list = (v: unknown): string[] => [v ?? []].flat() as string[];
/** Every statement of the CI role's policies: inline and the managed ones the constructs wrote. */
const allPolicies = (tf: TfJson): Record<string, any>[] => [
  ...ciPolicy(tf, "PushImage").Statement,
  ...ciPolicy(tf, "DeployStack").Statement,
  ...resources(tf, "aws_iam_policy")
    .filter((p) => /-ci-deploy-\d+$/.test(p.name))
    .flatMap((p) => JSON.parse(p.policy).Statement),
];
const allows = (doc: { Statement: Record<string, any>[] }) => doc.Statement.filter((s) => s.Effect === "Allow");

describe("CI access", () => {
  test("is off unless a repository is named: no OIDC provider, no CI role, no output", () => {
    const tf = synth(env());
    expect(resources(tf, "aws_iam_openid_connect_provider")).toEqual([]);
    expect(ciRole(tf)).toBeUndefined();
    expect(tf.output?.CiRoleArn).toBeUndefined();
  });

  test("creates GitHub's OIDC provider for the sts.amazonaws.com audience, and outputs the role ARN", () => {
    const tf = synth(env({ ci: { githubRepository: REPO } }));
    const provider = only(tf, "aws_iam_openid_connect_provider");
    expect(provider.url).toBe(`https://${OIDC}`);
    expect(provider.client_id_list).toEqual(["sts.amazonaws.com"]);
    expect(tf.output?.CiRoleArn.value).toMatch(/^\$\{aws_iam_role\.CiAccess_DeployRole_\w+\.arn\}$/);
  });

  test("uses an existing provider by ARN instead of creating a second one", () => {
    const arn = `arn:aws:iam::123456789012:oidc-provider/${OIDC}`;
    const tf = synth(env({ ci: { githubRepository: REPO, oidcProviderArn: arn } }));
    expect(resources(tf, "aws_iam_openid_connect_provider")).toEqual([]);
    expect(JSON.parse(ciRole(tf).assume_role_policy).Statement[0].Principal).toEqual({ Federated: arn });
  });

  test("trusts only web identities of that repository's environment, by exact sub and aud", () => {
    const trust = JSON.parse(ciRole(synth(env({ ci: { githubRepository: REPO } }))).assume_role_policy);
    expect(trust.Statement).toHaveLength(1);
    const [statement] = trust.Statement;
    expect(statement.Effect).toBe("Allow");
    expect(statement.Action).toBe("sts:AssumeRoleWithWebIdentity");
    expect(statement.Principal.Federated).toMatch(/aws_iam_openid_connect_provider/);
    // Only StringEquals: a StringLike would accept patterns.
    expect(Object.keys(statement.Condition)).toEqual(["StringEquals"]);
    expect(statement.Condition.StringEquals).toEqual({
      [`${OIDC}:aud`]: "sts.amazonaws.com",
      [`${OIDC}:sub`]: [`repo:${REPO}:environment:test`],
    });
  });

  test("with workflows, trusts each workflow at the ref, in each environment: GitHub's subject of repo, context and job_workflow_ref", () => {
    const tf = synth(env({ ci: { githubRepository: REPO, environments: ["staging", "prod"], workflows: ["deploy.yml", "rollback.yml"] } }));
    const subjects = JSON.parse(ciRole(tf).assume_role_policy).Statement[0].Condition.StringEquals[`${OIDC}:sub`];
    const job = (e: string, w: string) => `repo:${REPO}:environment:${e}:job_workflow_ref:${REPO}/.github/workflows/${w}@refs/heads/main`;
    expect(subjects).toEqual([job("staging", "deploy.yml"), job("staging", "rollback.yml"), job("prod", "deploy.yml"), job("prod", "rollback.yml")]);
  });

  test("warns at synth when no workflow is named, since then any workflow of the repository in the environment may deploy", () => {
    const stack = new ApiStack(Testing.app(), "test", env({ ci: { githubRepository: REPO } }));
    Testing.synth(stack);
    const warnings = stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data)));
    expect(warnings.join("\n")).toMatch(
      /ci\.workflows is empty: any workflow of acme\/rest-api running in environment "test" can assume rest-api-test-ci-deploy/,
    );
  });

  test("trusts the listed environments and a branch when given, and nothing with a wildcard", () => {
    const tf = synth(env({ ci: { githubRepository: REPO, environments: ["staging", "prod"], branch: "main" } }));
    const subjects = JSON.parse(ciRole(tf).assume_role_policy).Statement[0].Condition.StringEquals[`${OIDC}:sub`];
    expect(subjects).toEqual([`repo:${REPO}:environment:staging`, `repo:${REPO}:environment:prod`, `repo:${REPO}:ref:refs/heads/main`]);
    for (const subject of subjects) expect(subject).not.toMatch(/[*?]/);
  });

  test("may push to this stack's repository only; its only wildcard resource is ECR login, which AWS requires", () => {
    const tf = synth(env({ ci: { githubRepository: REPO } }), { offline: true });
    const repository = "arn:aws:ecr:eu-west-1:123456789012:repository/rest-api-test";
    const push = allows(ciPolicy(tf, "PushImage"));
    const pushing = push.filter((s) => list(s.Action).includes("ecr:PutImage"));
    expect(pushing.map((s) => s.Resource)).toEqual([repository]);
    expect(push.filter((s) => list(s.Resource).includes("*")).map((s) => s.Action)).toEqual(["ecr:GetAuthorizationToken"]);
    // And no other statement of any of its policies names an ECR repository but this one.
    for (const s of allPolicies(tf).filter((s) => s.Effect !== "Deny" && list(s.Action).some((a) => a.startsWith("ecr:"))))
      expect(list(s.Resource).every((r) => r === repository || (r === "*" && list(s.Action).every((a) => a === "ecr:GetAuthorizationToken")))).toBe(true);
  });

  test("may pull from the repositories named for promotion, and only pull", () => {
    const dev = "arn:aws:ecr:eu-west-1:123456789012:repository/rest-api-dev";
    const push = allows(ciPolicy(synth(env({ ci: { githubRepository: REPO, pullFrom: [dev] } })), "PushImage"));
    const promotion = push.filter((s) => list(s.Resource).includes(dev));
    expect(promotion).toHaveLength(1);
    expect(list(promotion[0].Action).every((a) => /^ecr:(BatchGetImage|DescribeImages|GetDownloadUrlForLayer)$/.test(a))).toBe(true);
  });

  test("IAM: only reads under the stack's prefix and passing its roles to their services; no IAM write; never itself, never assuming roles", () => {
    const tf = synth(env({ ci: { githubRepository: REPO } }), { offline: true });
    const deploy = ciPolicy(tf, "DeployStack").Statement;
    const boundary = "arn:aws:iam::123456789012:policy/rest-api-test-boundary";
    const iamAllowed = allPolicies(tf).filter((s) => s.Effect !== "Deny" && list(s.Action).some((a) => a.startsWith("iam:")));
    for (const s of iamAllowed.filter((s) => !list(s.Action).includes("iam:CreateServiceLinkedRole")))
      for (const r of list(s.Resource))
        expect(r).toMatch(/^(arn:aws:iam::123456789012:(role|policy)\/rest-api-test-[\w*-]+|\$\{aws_iam_openid_connect_provider\.\w+\.arn\})$/);
    // A release never grants: the roles, their trust and policies are the administrator's (docs/security.md, "Two kinds of change").
    expect(iamAllowed.flatMap((s) => list(s.Action)).filter((a) => !/^iam:(Get|List|PassRole$)/.test(a))).toEqual([]);
    expect(deploy.find((s) => s.Sid === "DenyOtherBoundaries")!.Condition.StringNotEqualsIfExists["iam:PermissionsBoundary"]).toBe(boundary);
    expect(
      allPolicies(tf)
        .flatMap((s) => list(s.Action))
        .filter((a) => /^(iam:\*|\*|sts:\*)$/.test(a)),
    ).toEqual([]);
    expect(deploy.find((s) => s.Sid === "DenySelfChange")).toMatchObject({
      Effect: "Deny",
      Resource: [
        "arn:aws:iam::123456789012:role/rest-api-test-ci-deploy",
        expect.stringMatching(/aws_iam_openid_connect_provider/),
        "arn:aws:iam::123456789012:policy/rest-api-test-ci-deploy-*",
      ],
    });
    for (const sid of [
      "DenyPolicyChanges",
      "DenyRemovingBoundaries",
      "DenyOtherBoundaries",
      "DenyAssumingRoles",
      "DenyOtherEnvironments",
      "DenyOtherProjects",
      "DenyOtherRegions",
    ])
      expect({ sid, effect: deploy.find((s) => s.Sid === sid)?.Effect }).toEqual({ sid, effect: "Deny" });
  });

  test("every role the stack creates carries the environment's boundary; the CI role carries the one given", () => {
    const tf = synth(
      env({ ci: { githubRepository: REPO }, compute: { mode: "ec2", ec2: { amiId: "ami-0123456789abcdef0" } }, network: { natMode: "single" } }),
    );
    const boundary = `\${aws_iam_policy.${Object.entries(tf.resource.aws_iam_policy).find(([, p]) => p.name === "rest-api-test-boundary")![0]}.arn}`;
    for (const role of resources(tf, "aws_iam_role").filter((r) => !r.name.endsWith("-ci-deploy")))
      expect([role.name, role.permissions_boundary]).toEqual([role.name, boundary]);
    expect(ciRole(tf).permissions_boundary).toBeUndefined();
  });

  test("gets what the stack's own features need, and no more: no RDS without a database, S3 state only with an S3 backend", () => {
    const lean = allPolicies(synth(env({ database: { enabled: false }, ci: { githubRepository: REPO } })));
    const actions = lean.filter((s) => s.Effect !== "Deny").flatMap((s) => list(s.Action));
    expect(actions.filter((a) => /^(rds|secretsmanager|autoscaling|acm|route53|s3|wafv2):/.test(a))).toEqual([]);
    const withState = synth(env({ state: { backend: "s3", bucket: "acme-state" }, ci: { githubRepository: REPO } }));
    const deploy = ciPolicy(withState, "DeployStack").Statement;
    expect(deploy.find((s) => s.Sid === "StateObject")?.Resource).toEqual([
      "arn:aws:s3:::acme-state/rest-api/test/terraform.tfstate",
      "arn:aws:s3:::acme-state/rest-api/test/terraform.tfstate.tflock",
    ]);
    // The monitoring role's managed policy is attached by the administrator's deploy, never by a release.
    const settings = env({ ci: { githubRepository: REPO } });
    expect(deployPermissions(settings).attachablePolicies).toEqual(["arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"]);
    expect(allPolicies(synth(settings)).filter((s) => s.Effect !== "Deny" && list(s.Action).includes("iam:AttachRolePolicy"))).toEqual([]);
  });

  test("deploying lets ECR hold a grant on the environment's key through ECR only, and manages WAF only when the stack has it; a release only reads them", () => {
    const kmsRepo = deployPermissions(env({ ci: { githubRepository: REPO } }));
    expect(kmsRepo.statements.find((s) => s.Sid === "RepositoryKeyGrant")).toMatchObject({
      Action: ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"],
      Condition: { StringEquals: { "kms:ViaService": "ecr.eu-west-1.amazonaws.com" } },
    });
    expect(kmsRepo.release.find((s) => s.Sid.startsWith("RepositoryKeyGrant"))).toMatchObject({ Sid: "RepositoryKeyGrantReads", Action: "kms:DescribeKey" });
    expect(kmsRepo.statements.flatMap((s) => list(s.Action)).filter((a) => a.startsWith("wafv2:"))).toEqual([]);
    const aes = deployPermissions(env({ registry: { encryption: "AES256" }, waf: { enabled: true }, ci: { githubRepository: REPO } }));
    expect(aes.statements.find((s) => s.Sid === "RepositoryKeyGrant")).toBeUndefined();
    expect(aes.statements.flatMap((s) => list(s.Action))).toContain("wafv2:CreateWebACL");
    const released = allPolicies(synth(env({ registry: { encryption: "AES256" }, waf: { enabled: true }, ci: { githubRepository: REPO } })));
    expect(
      released
        .filter((s) => s.Effect !== "Deny")
        .flatMap((s) => list(s.Action))
        .filter((a) => a.startsWith("wafv2:") && !/:(Get|List)/.test(a)),
    ).toEqual([]);
  });

  test("sets the permissions boundary when given", () => {
    const boundary = "arn:aws:iam::123456789012:policy/ci-boundary";
    expect(ciRole(synth(env({ ci: { githubRepository: REPO, permissionsBoundaryArn: boundary } }))).permissions_boundary).toBe(boundary);
  });

  test("every managed policy fits IAM's 6,144 characters, the inline ones its 10,240 together, and none names a Terraform reference but the provider's and the subnets'", () => {
    for (const settings of [env({ ci: { githubRepository: REPO } }), { ...prod, ci: { githubRepository: REPO } }]) {
      // Offline, the account is its 12 digits, as AWS counts it.
      const tf = synth(settings, { offline: true });
      for (const p of resources(tf, "aws_iam_policy")) expect(p.policy.replace(/\s/g, "").length).toBeLessThan(6144);
      const inline = ["PushImage", "DeployStack"].map((n) => ciPolicy(tf, n));
      expect(inline.map((d) => JSON.stringify(d).length).reduce((a, b) => a + b)).toBeLessThan(10240);
      const deployPolicies = resources(tf, "aws_iam_policy").filter((p) => /-ci-deploy-\d+$/.test(p.name));
      expect(deployPolicies.length).toBeGreaterThan(0);
      // A subnet's id (subnet- and 17 characters) is shorter than its reference: the sizes above only overstate.
      for (const p of deployPolicies) expect((p.policy.match(/\$\{[^}]*\}/g) ?? []).filter((r: string) => !/^\$\{aws_subnet\.\w+\.id\}$/.test(r))).toEqual([]);
    }
  });

  test.each([
    [{ githubRepository: "acme" }, /Invalid setting ci\.githubRepository = "acme": not a GitHub repository\. Allowed: "owner\/name"/],
    [{ githubRepository: "acme/*" }, /Invalid setting ci\.githubRepository = "acme\/\*": a wildcard would let other repositories deploy/],
    [{ githubRepository: "https://github.com/acme/api" }, /Invalid setting ci\.githubRepository = .*: not a GitHub repository/],
    [{ githubRepository: REPO, branch: "release/*" }, /Invalid setting ci\.branch = "release\/\*": a wildcard would trust every matching branch/],
    [{ githubRepository: REPO, branch: "refs/heads/main" }, /Invalid setting ci\.branch = "refs\/heads\/main": not a branch name/],
    [{ githubRepository: REPO, environments: ["prod*"] }, /Invalid setting ci\.environments = \["prod\*"\]: "prod\*" has a wildcard/],
    [{ githubRepository: REPO, environments: [] }, /Invalid setting ci\.environments = \[\]: no environment and no branch: no job could assume the role/],
    [
      { githubRepository: REPO, oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/example.com" },
      /Invalid setting ci\.oidcProviderArn = .*: not the ARN of a GitHub Actions OIDC provider/,
    ],
    [
      { githubRepository: REPO, pullFrom: ["arn:aws:ecr:us-east-1:123456789012:repository/*"] },
      /Invalid setting ci\.pullFrom = .*: .* is not the ARN of one ECR repository/,
    ],
    [
      { githubRepository: REPO, workflows: ["*.yml"] },
      /Invalid setting ci\.workflows = \["\*\.yml"\]: "\*\.yml" is not a workflow file name\. Allowed: file names/,
    ],
    [{ githubRepository: REPO, workflows: [".github/workflows/deploy.yml"] }, /Invalid setting ci\.workflows = .*: .* is not a workflow file name/],
    [{ githubRepository: REPO, ref: "main" }, /Invalid setting ci\.ref = "main": not one full branch or tag ref\. Allowed: "refs\/heads\/<branch>"/],
    [{ githubRepository: REPO, ref: "refs/heads/*" }, /Invalid setting ci\.ref = "refs\/heads\/\*": not one full branch or tag ref/],
    [
      { githubRepository: REPO, workflows: ["deploy.yml"], branch: "release" },
      /Invalid setting ci\.branch = "release": the workflows must run from ci\.ref = "refs\/heads\/main", so jobs of branch "release" could never assume the role/,
    ],
  ] as const)("refuses %j at synth, naming the setting", (ci, message) => {
    expect(() => synth(env({ ci }))).toThrow(message);
  });
});
