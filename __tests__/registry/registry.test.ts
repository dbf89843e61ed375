import { env, only, ref, resources, rolePolicy, synth } from "../support/helpers";

describe("Registry", () => {
  test("scans on push, keeps tags immutable and encrypts images with the environment's key", () => {
    const tf = synth(env());
    const repo = only(tf, "aws_ecr_repository");
    expect(repo.name).toBe("rest-api-test");
    expect(repo.image_scanning_configuration).toEqual({ scan_on_push: true });
    expect(repo.image_tag_mutability).toBe("IMMUTABLE");
    const key = resources(tf, "aws_kms_key").find((k) => String(k.description).endsWith(" environment key"))!;
    expect(repo.encryption_configuration).toEqual([{ encryption_type: "KMS", kms_key: ref(tf, "aws_kms_key", key, "arn") }]);
  });

  test("given registry.encryption AES256 (a repository made before KMS), it keeps AWS-owned keys", () => {
    expect(only(synth(env({ registry: { encryption: "AES256" } })), "aws_ecr_repository").encryption_configuration).toEqual([{ encryption_type: "AES256" }]);
  });

  test("refuses to delete a repository with images unless the environment allows it", () => {
    expect(only(synth(env()), "aws_ecr_repository").force_delete).toBe(false);
    expect(only(synth(env({ registry: { forceDelete: true } })), "aws_ecr_repository").force_delete).toBe(true);
  });

  test("expires untagged images after D days and keeps the last N images", () => {
    const tf = synth(env({ registry: { keepImages: 12, untaggedExpiryDays: 3 } }));
    const rules = JSON.parse(only(tf, "aws_ecr_lifecycle_policy").policy).rules;
    expect(rules[0].selection).toEqual({ tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 3 });
    expect(rules[1].selection).toEqual({ tagStatus: "any", countType: "imageCountMoreThan", countNumber: 12 });
  });

  test("rejects a lifecycle that keeps no images", () => {
    expect(() => synth(env({ registry: { keepImages: 0 } }))).toThrow(
      "Invalid setting registry.keepImages = 0: out of range or not a whole number. Allowed: a whole number from 1 to 10000.",
    );
  });

  test("grants the pull of its own repository: every task definition's execution role pulls from it and from no other", () => {
    const tf = synth(env({ services: { admin: { route: { pathPatterns: ["/admin/*"] } } } }));
    const repository = ref(tf, "aws_ecr_repository", only(tf, "aws_ecr_repository"), "arn");
    const roles = resources(tf, "aws_iam_role").filter((r) => String(r.name).endsWith("-execution"));
    expect(roles.length).toBe(resources(tf, "aws_ecs_task_definition").length);
    for (const role of roles) {
      const ecr = rolePolicy(tf, role.name, "Policy").Statement.filter((s) => String(s.Action).includes("ecr:"));
      expect([role.name, ecr]).toEqual([
        role.name,
        [
          // GetAuthorizationToken has no resource-level permissions.
          { Effect: "Allow", Sid: "EcrAuth", Action: "ecr:GetAuthorizationToken", Resource: "*" },
          {
            Effect: "Allow",
            Sid: "EcrPull",
            Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            Resource: repository,
          },
        ],
      ]);
    }
  });
});
