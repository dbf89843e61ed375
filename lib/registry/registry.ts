import { Construct } from "constructs";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import * as z from "zod/mini";
import { flag, int, withDefault } from "../settings/rules";
import { jsonString } from "../core/hcl";
import { DeployPermissions } from "../core/deploy-permissions";
import { EnvironmentContext } from "../core/environment";
import type { Statement } from "../core/policy";
import { EncryptionKey } from "../core/encryption-key";
import { holdings, ResourceKind } from "../core/resource-kind";

/** The environment's ECR repository and its lifecycle policy. */
export const REPOSITORY = new ResourceKind({
  name: "ECR repository",
  file: __filename,
  types: ["aws_ecr_repository", "aws_ecr_lifecycle_policy"],
  deploy: { services: ["ecr"], tag: ["ecr:TagResource"], untag: ["ecr:UntagResource"] },
  endpoints: ["ecr"],
  price: { why: "billed by the images stored and transferred (usage); the lifecycle policy keeps the store small" },
  inventory: async (aws) =>
    holdings(
      "ecr",
      "repository",
      ((await aws("ecr", "DescribeRepositories")).repositories ?? []).map((r: { repositoryName?: string }) => r.repositoryName),
    ),
  alarms: { why: "a repository has no failure of its own; an image that cannot be pulled stops the tasks, which the service's alarms catch" },
});

export const RegistrySettingsSchema = z.strictObject({
  /** Images kept; older ones expire. @default 30 */
  keepImages: withDefault(int(1, 10000), 30),
  /** Days before untagged images expire. @default 7 */
  untaggedExpiryDays: withDefault(int(1, 3650), 7),
  /** Let `destroy` delete the repository with images in it. @default false */
  forceDelete: withDefault(flag, false),
  /**
   * `KMS` (the environment's key) or `AES256` (AWS-owned keys). AWS cannot change a repository's encryption: a
   * repository created with `AES256` keeps it (docs/upgrading.md); switching replaces it, images and all.
   * @default "KMS"
   */
  encryption: withDefault(z.enum(["KMS", "AES256"]), "KMS"),
});
/** The repository's settings as written in an environment. */
export type RegistrySettings = z.input<typeof RegistrySettingsSchema>;
/** The same, checked and with every default applied. */
export type RegistryConfig = z.output<typeof RegistrySettingsSchema>;

/** The repository is named after the environment (`EnvironmentContext`), and `KMS` encryption uses its key (`EncryptionKey.of`). */
export type RegistryProps = RegistryConfig;

/** A repository tasks pull their image from (as aws-cdk's IRepository): where its images are, and the grant to pull them. */
export interface IRepository {
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`: an image is this and `:<tag>` or `@<digest>`. */
  readonly repositoryUrl: string;
  /** What a task's execution role needs to pull this repository's images, and nothing of another's. */
  pullStatements(): Statement[];
}

/** What pulling an image takes, besides the registry login (GetAuthorizationToken). */
export const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

/** The ECR repository the task definition pulls its image from. */
export class Registry extends Construct implements IRepository {
  readonly repository: EcrRepository;
  /** `<project>-<environment>`, as written (not a reference), for policies that name the repository before it exists. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: RegistryProps) {
    super(scope, id);
    const environment = EnvironmentContext.of(this);
    this.name = environment.prefix;
    const keep = props.keepImages;
    const untaggedDays = props.untaggedExpiryDays;
    const deploy = DeployPermissions.of(this);
    if (deploy) {
      // The repository by its name (one per environment), and tagged.
      deploy.service("Repository", {
        kind: REPOSITORY,
        create: ["ecr:CreateRepository", "ecr:TagResource"],
        manage: [
          "ecr:DeleteLifecyclePolicy",
          "ecr:DescribeRepositories",
          "ecr:GetLifecyclePolicy",
          "ecr:GetRepositoryPolicy",
          "ecr:ListTagsForResource",
          "ecr:PutImageScanningConfiguration",
          "ecr:PutImageTagMutability",
          "ecr:PutLifecyclePolicy",
          "ecr:TagResource",
          "ecr:UntagResource",
        ],
        destroy: ["ecr:DeleteRepository"],
        resources: [deploy.arn("ecr", `repository/${this.name}`)],
      });
      if (props.encryption === "KMS")
        // ECR holds a grant on the environment's key, made with the caller's permissions, through ECR only.
        deploy.allow([
          {
            Sid: "RepositoryKeyGrant",
            Action: ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"],
            Resource: deploy.arn("kms", "key/*"),
            Condition: { StringEquals: { ...deploy.ownResource.StringEquals, "kms:ViaService": `ecr.${deploy.region}.amazonaws.com` } },
          },
        ]);
    }

    this.repository = new EcrRepository(this, "Repository", {
      name: this.name,
      // Immutable tags make a tag name one image forever, so a deploy is reproducible.
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [props.encryption === "KMS" ? { encryptionType: "KMS", kmsKey: EncryptionKey.of(this).keyArn } : { encryptionType: "AES256" }],
      forceDelete: props.forceDelete,
    });

    new EcrLifecyclePolicy(this, "LifecyclePolicy", {
      // The repository's id (its name, as AWS returns it), not the name it is given: a repository replaced (a new
      // encryption, which AWS cannot change in place) comes back without its lifecycle policy, and only a value
      // unknown until the new repository exists makes Terraform make the policy again with it; an in-place change
      // of the repository keeps the id known, and the policy as it is.
      repository: this.repository.id,
      policy: jsonString({
        rules: [
          {
            rulePriority: 1,
            description: `Expire untagged images after ${untaggedDays} days`,
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedDays },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            description: `Keep the last ${keep} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
            action: { type: "expire" },
          },
        ],
      }),
    });
  }

  get repositoryUrl(): string {
    return this.repository.repositoryUrl;
  }

  pullStatements(): Statement[] {
    return [
      // GetAuthorizationToken has no resource-level permissions; AWS requires "*".
      { Sid: "EcrAuth", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      { Sid: "EcrPull", Action: ECR_PULL_ACTIONS, Resource: this.repository.arn },
    ];
  }
}
