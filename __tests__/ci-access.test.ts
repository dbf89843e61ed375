import { env, only, resources, synth, TfJson } from "./helpers";

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

  test("trusts the listed environments and a branch when given, and nothing with a wildcard", () => {
    const tf = synth(env({ ci: { githubRepository: REPO, environments: ["staging", "prod"], branch: "main" } }));
    const subjects = JSON.parse(ciRole(tf).assume_role_policy).Statement[0].Condition.StringEquals[`${OIDC}:sub`];
    expect(subjects).toEqual([`repo:${REPO}:environment:staging`, `repo:${REPO}:environment:prod`, `repo:${REPO}:ref:refs/heads/main`]);
    for (const subject of subjects) expect(subject).not.toMatch(/[*?]/);
  });

  test("may push to this stack's repository only; its only wildcard resource is ECR login, which AWS requires", () => {
    const tf = synth(env({ ci: { githubRepository: REPO } }));
    const repository = `\${aws_ecr_repository.${Object.keys(tf.resource.aws_ecr_repository)[0]}.arn}`;
    const push = allows(ciPolicy(tf, "PushImage"));
    const pushing = push.filter((s) => list(s.Action).includes("ecr:PutImage"));
    expect(pushing.map((s) => s.Resource)).toEqual([repository]);
    expect(push.filter((s) => list(s.Resource).includes("*")).map((s) => s.Action)).toEqual(["ecr:GetAuthorizationToken"]);
    // And no other statement of either policy names an ECR repository but this one.
    const deploy = allows(ciPolicy(tf, "DeployStack"));
    for (const s of [...push, ...deploy].filter((s) => list(s.Action).some((a) => a.startsWith("ecr:")))) {
      expect(list(s.Resource).every((r) => r === repository || (r === "*" && list(s.Action).every((a) => a === "ecr:GetAuthorizationToken")))).toBe(true);
    }
  });

  test("may pull from the repositories named for promotion, and only pull", () => {
    const dev = "arn:aws:ecr:eu-west-1:123456789012:repository/rest-api-dev";
    const push = allows(ciPolicy(synth(env({ ci: { githubRepository: REPO, pullFrom: [dev] } })), "PushImage"));
    const promotion = push.filter((s) => list(s.Resource).includes(dev));
    expect(promotion).toHaveLength(1);
    expect(list(promotion[0].Action).every((a) => /^ecr:(BatchGetImage|DescribeImages|GetDownloadUrlForLayer)$/.test(a))).toBe(true);
  });

  test("deploys only in the stack's region, IAM only under the stack's prefix, and never changes itself or assumes other roles", () => {
    const tf = synth(env({ ci: { githubRepository: REPO } }));
    const deploy = ciPolicy(tf, "DeployStack").Statement;
    for (const s of deploy.filter((s) => s.Effect === "Allow" && list(s.Resource).includes("*"))) {
      const regionBound = s.Condition?.StringEquals?.["aws:RequestedRegion"] === "eu-west-1";
      const narrowed = s.Condition?.StringEquals?.["iam:AWSServiceName"] || s.Condition?.StringEquals?.["kms:ViaService"];
      expect({ sid: s.Sid, bound: Boolean(regionBound || narrowed) }).toEqual({ sid: s.Sid, bound: true });
    }
    const iamAllowed = deploy.filter((s) => s.Effect === "Allow" && list(s.Action).some((a) => a.startsWith("iam:")));
    for (const s of iamAllowed.filter((s) => !list(s.Action).includes("iam:CreateServiceLinkedRole"))) {
      for (const r of list(s.Resource)) expect(r).toMatch(/^(arn:aws:iam::\*:(role|instance-profile)\/rest-api-test-\*|\$\{aws_iam_openid_connect_provider\.)/);
    }
    expect(deploy.flatMap((s) => list(s.Action)).filter((a) => /^(iam:\*|\*|sts:\*)$/.test(a))).toEqual([]);
    const denySelf = deploy.find((s) => s.Sid === "DenySelfChange")!;
    expect(denySelf.Effect).toBe("Deny");
    expect(denySelf.Resource).toEqual([
      expect.stringMatching(/aws_iam_role\.CiAccess_DeployRole_\w+\.arn/),
      expect.stringMatching(/aws_iam_openid_connect_provider/),
    ]);
    expect(deploy.find((s) => s.Sid === "DenyAssumeOtherRoles")).toMatchObject({ Effect: "Deny", Action: ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"] });
  });

  test("gets what the stack's own features need, and no more: no RDS without a database, S3 state only with an S3 backend", () => {
    const lean = ciPolicy(synth(env({ database: { enabled: false }, ci: { githubRepository: REPO } })), "DeployStack").Statement;
    const actions = lean.flatMap((s) => list(s.Action));
    expect(actions.filter((a) => /^(rds|secretsmanager|autoscaling|acm|route53|s3):/.test(a))).toEqual([]);
    const withState = ciPolicy(synth(env({ state: { backend: "s3", bucket: "acme-state" }, ci: { githubRepository: REPO } })), "DeployStack").Statement;
    expect(withState.find((s) => s.Sid === "StateObject")?.Resource).toEqual([
      "arn:aws:s3:::acme-state/rest-api/test/terraform.tfstate",
      "arn:aws:s3:::acme-state/rest-api/test/terraform.tfstate.tflock",
    ]);
    const attach = withState.find((s) => s.Sid === "StackManagedPolicies")!;
    expect(attach.Condition.ArnEquals["iam:PolicyARN"]).toEqual(["arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"]);
  });

  test("may let ECR hold a grant on the environment's key through ECR only, and manage WAF only when the stack has it", () => {
    const kmsRepo = ciPolicy(synth(env({ ci: { githubRepository: REPO } })), "DeployStack").Statement;
    expect(kmsRepo.find((s) => s.Sid === "RepositoryKeyGrant")).toMatchObject({
      Action: ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"],
      Condition: { StringEquals: { "kms:ViaService": "ecr.eu-west-1.amazonaws.com" } },
    });
    expect(kmsRepo.flatMap((s) => list(s.Action)).filter((a) => a.startsWith("wafv2:"))).toEqual([]);
    const aes = ciPolicy(synth(env({ registry: { encryption: "AES256" }, waf: { enabled: true }, ci: { githubRepository: REPO } })), "DeployStack").Statement;
    expect(aes.find((s) => s.Sid === "RepositoryKeyGrant")).toBeUndefined();
    expect(aes.flatMap((s) => list(s.Action))).toContain("wafv2:*");
  });

  test("sets the permissions boundary when given", () => {
    const boundary = "arn:aws:iam::123456789012:policy/ci-boundary";
    expect(ciRole(synth(env({ ci: { githubRepository: REPO, permissionsBoundaryArn: boundary } }))).permissions_boundary).toBe(boundary);
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
  ] as const)("refuses %j at synth, naming the setting", (ci, message) => {
    expect(() => synth(env({ ci }))).toThrow(message);
  });
});
