/**
 * The GitHub Actions workflows: valid against the workflow schema (@action-validator/core, offline),
 * and the properties that matter for a pipeline holding deploy rights.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";

const dir = join(__dirname, "../..", ".github", "workflows");
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const text = (file: string) => readFileSync(join(dir, file), "utf8");
const workflow = (file: string) => parse(text(file)) as Record<string, any>;
const jobs = (file: string) => Object.entries(workflow(file).jobs as Record<string, Record<string, any>>);
const steps = (job: Record<string, any>) => (job.steps ?? []) as Record<string, any>[];
const runs = (job: Record<string, any>) => steps(job).map((s) => String(s.run ?? ""));
const usesAws = (job: Record<string, any>) => steps(job).some((s) => String(s.uses ?? "").startsWith("aws-actions/configure-aws-credentials@"));
/** Jobs that change an environment: they deploy, through the release path (an engine's own deploy would skip its check). */
const deploying = (file: string) => jobs(file).filter(([, job]) => runs(job).some((r) => /cdktf deploy|cdktn deploy|npm run deploy/.test(r)));

test("there are the three workflows: pull request, release to dev, promote to prod", () => {
  expect(files.sort()).toEqual(["promote-prod.yml", "pull-request.yml", "release-dev.yml"]);
});

describe.each(files)("%s", (file) => {
  test("is valid against the GitHub Actions workflow schema", () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      expect(validateWorkflow(text(file)).errors).toEqual([]);
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
  });

  test("pins every action to a full commit SHA, with the version in a comment", () => {
    const uses = [...text(file).matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, action, rest] of uses) {
      expect(action).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/);
      expect(rest).toMatch(/^\s+# v\d+(\.\d+)*$/);
    }
  });

  test("reaches AWS through OIDC only: no stored keys anywhere", () => {
    expect(text(file)).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-session-token/i);
    for (const [, job] of jobs(file).filter(([, j]) => usesAws(j))) {
      for (const step of steps(job).filter((s) => String(s.uses ?? "").startsWith("aws-actions/configure-aws-credentials@"))) {
        expect(Object.keys(step.with).sort()).toEqual(["aws-region", "role-to-assume"]);
        expect(step.with["role-to-assume"]).toBe("${{ vars.AWS_ROLE_ARN }}");
      }
    }
  });

  test("grants least permissions: contents read at the top, an ID token only to jobs that assume the AWS role", () => {
    expect(workflow(file).permissions).toEqual({ contents: "read" });
    for (const [name, job] of jobs(file)) {
      const permissions = job.permissions ?? {};
      expect({ job: name, idToken: permissions["id-token"] === "write" }).toEqual({ job: name, idToken: usesAws(job) });
      // Writing contents is for committing the release record, which only a deploying job does.
      if (permissions.contents === "write") expect(runs(job).some((r) => /git .*\bpush\b/.test(r))).toBe(true);
      for (const [scope, level] of Object.entries(permissions)) {
        expect(`${scope}: ${level}`).toMatch(/^(contents: (read|write)|id-token: write)$/);
      }
    }
  });

  test("every job that assumes the AWS role runs in a GitHub environment, so the role's trust can name it", () => {
    for (const [, job] of jobs(file).filter(([, j]) => usesAws(j))) expect(["dev", "prod"]).toContain(job.environment);
  });

  test("no expression is pasted into a shell script: every ${{ }} value reaches run steps through env", () => {
    for (const [name, job] of jobs(file))
      for (const step of steps(job)) expect({ job: name, run: String(step.run ?? "") }).not.toEqual({ job: name, run: expect.stringContaining("${{") });
  });

  test("no checkout leaves the token on disk", () => {
    for (const [, job] of jobs(file))
      for (const step of steps(job).filter((s) => String(s.uses ?? "").startsWith("actions/checkout@"))) expect(step.with?.["persist-credentials"]).toBe(false);
  });

  test("a job that holds a token (an OIDC token for AWS, or contents write) installs without running dependencies' install scripts", () => {
    for (const [name, job] of jobs(file).filter(([, j]) => j.permissions?.["id-token"] === "write" || j.permissions?.contents === "write"))
      for (const command of runs(job).filter((r) => /\bnpm (ci|install)\b/.test(r)))
        expect({ job: name, command }).toEqual({ job: name, command: "npm ci --ignore-scripts" });
  });

  test("the token that pushes the release record is given to that step only", () => {
    for (const [name, job] of jobs(file)) {
      const holders = steps(job).filter((s) => JSON.stringify(s.env ?? {}).includes("github.token"));
      for (const step of holders)
        expect({ job: name, pushes: String(step.run).includes("git") && String(step.run).includes("push") }).toEqual({ job: name, pushes: true });
      expect(JSON.stringify(job.env ?? {})).not.toContain("github.token");
    }
  });

  test("pins every image and tool version: Node and Terraform exactly, service images to a minor release, pip packages exactly, apt packages to a minor release", () => {
    for (const [, job] of jobs(file)) {
      for (const service of Object.values<Record<string, any>>(job.services ?? {}))
        expect(service.image).toMatch(/^[\w./-]+:\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$|@sha256:[0-9a-f]{64}$/);
      for (const step of steps(job)) {
        if (String(step.uses ?? "").startsWith("actions/setup-node@")) expect(String(step.with["node-version"])).toMatch(/^\d+\.\d+\.\d+$/);
        if (String(step.uses ?? "").startsWith("hashicorp/setup-terraform@")) expect(String(step.with.terraform_version)).toMatch(/^\d+\.\d+\.\d+$/);
        const run = String(step.run ?? "");
        for (const [, spec] of run.matchAll(/pip[x3]? install\s+"?([^"\s]+)"?/g)) expect(spec).toMatch(/==\d+\.\d+\.\d+$/);
        for (const [, packages] of run.matchAll(/apt-get install((?:\s+-\S+)*(?:\s+[\w.+-]+(?:=\S+)?)+)/g))
          for (const spec of packages
            .trim()
            .split(/\s+/)
            .filter((word) => !word.startsWith("-")))
            expect(spec).toMatch(/^[\w.+-]+=\d+\.\d+\.\*$/);
      }
    }
  });
});

test("the pull request workflow installs, runs npm test and puts the offline plan of every environment in the job summary", () => {
  const [[, job]] = jobs("pull-request.yml");
  expect(workflow("pull-request.yml").on).toHaveProperty("pull_request");
  const commands = runs(job);
  expect(commands).toEqual(expect.arrayContaining(["npm ci", "npm test"]));
  expect(commands.find((r) => r.includes("plan:offline"))).toMatch(/GITHUB_STEP_SUMMARY/);
  expect(usesAws(job)).toBe(false);
});

test("the pull request workflow runs the REST API's tests against a real PostgreSQL too", () => {
  const [[, job]] = jobs("pull-request.yml");
  const postgres = job.services.postgres;
  expect(postgres.image).toMatch(/^postgres:15\.\d+-bookworm$/);
  const step = job.steps.find((st: { run?: string }) => st.run === "npm test");
  const url = new URL(step.env.TEST_DATABASE_URL);
  expect([decodeURIComponent(url.username), decodeURIComponent(url.password)]).toEqual([postgres.env.POSTGRES_USER, postgres.env.POSTGRES_PASSWORD]);
  expect(postgres.ports).toEqual([`${url.port}:5432`]);
});

test("the release workflow builds the REST API's Dockerfile, from the repository root", () => {
  const dockerfile = workflow("release-dev.yml").env.DOCKERFILE;
  expect(dockerfile).toBe("app/Dockerfile");
  expect(existsSync(join(__dirname, "../..", dockerfile))).toBe(true);
  expect(runs(jobs("release-dev.yml").find(([name]) => name === "build")![1]).join("\n")).toMatch(
    /docker build --platform "\$PLATFORM" -f "\$DOCKERFILE" .* \.$/m,
  );
});

describe.each([
  ["release-dev.yml", "dev"],
  ["promote-prod.yml", "prod"],
])("%s deploys %s", (file, environment) => {
  test("in one concurrency group per environment, never cancelling a deploy halfway", () => {
    expect(workflow(file).concurrency).toEqual({ group: `deploy-${environment}`, "cancel-in-progress": false });
    for (const [, job] of deploying(file)) expect(job.environment).toBe(environment);
  });

  test("records the release, deploys, then checks the rollout state in ECS before committing the record", () => {
    const [[, job]] = deploying(file);
    const commands = runs(job);
    const at = (pattern: RegExp) => commands.findIndex((r) => pattern.test(r));
    const record = at(/npm run --silent release -- "\$ENVIRONMENT"/);
    // The release path: it refuses a plan that changes what only the administrator deploys (scripts/deploy-release.ts).
    const deploy = at(/^npm run deploy:release -- "\$ENVIRONMENT"$/);
    expect(commands.filter((r) => /(cdktf|cdktn) deploy|npm run deploy -- /.test(r))).toEqual([]);
    const verify = at(/node scripts\/verify-rollout\.cjs/);
    const commit = at(/git .*\bpush origin/);
    expect([record, deploy, verify, commit].every((i) => i >= 0)).toBe(true);
    expect(record).toBeLessThan(deploy);
    expect(deploy).toBeLessThan(verify);
    expect(verify).toBeLessThan(commit);
    expect(commands[verify]).toMatch(/--image "\$IMAGE"/);
    expect(steps(job).find((st) => String(st.run ?? "").includes("verify-rollout"))!.env.IMAGE).toMatch(/^\$\{\{ steps\.\w+\.outputs\.image \}\}$/);
    // The check itself: ECS's own view, the rollout state, and a rollback counted as failure.
    const script = readFileSync(join(__dirname, "../..", "scripts", "verify-rollout.cjs"), "utf8");
    for (const needle of ['"describe-services"', 'rolloutState === "COMPLETED"', 'rolloutState === "FAILED"', "process.exit(1)"])
      expect(script).toContain(needle);
  });
});

test("the dev release builds for the environment's CPU architecture and pushes the commit SHA to dev's repository", () => {
  const build = workflow("release-dev.yml").jobs.build;
  expect(build["runs-on"]).toBe("${{ needs.describe.outputs.runner }}");
  const script = runs(build).join("\n");
  expect(script).toMatch(/docker build --platform "\$PLATFORM" -f "\$DOCKERFILE" -t "\$registry\/\$REPOSITORY:\$GITHUB_SHA" \./);
  expect(script).toMatch(/docker push "\$registry\/\$REPOSITORY:\$GITHUB_SHA"/);
  expect(workflow("release-dev.yml").env.DOCKERFILE).toBe("app/Dockerfile");
  expect(workflow("release-dev.yml").on.push.branches).toEqual(["main"]);
});

test("promotion to prod is manual, behind the prod environment, and copies the same digest with no build", () => {
  const promote = workflow("promote-prod.yml");
  expect(Object.keys(promote.on)).toEqual(["workflow_dispatch"]);
  const script = runs(promote.jobs.promote).join("\n");
  expect(script).not.toMatch(/docker build/);
  expect(script).toMatch(/skopeo copy --all --preserve-digests/);
  expect(script).toMatch(/if \[ "\$copied" != "\$digest" \]; then .*exit 1; fi/);
});
