import { Construct } from "constructs";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { checkInt } from "./validate";

export interface RegistrySettings {
  /** Images kept; older ones expire. @default 30 */
  readonly keepImages?: number;
  /** Days before untagged images expire. @default 7 */
  readonly untaggedExpiryDays?: number;
  /** Let `destroy` delete the repository with images in it. @default false */
  readonly forceDelete?: boolean;
}

export interface RegistryProps extends RegistrySettings {
  /** Repository name, `<project>-<environment>`. */
  readonly name: string;
}

/** The ECR repository the task definition pulls its image from. */
export class Registry extends Construct {
  readonly repository: EcrRepository;

  constructor(scope: Construct, id: string, props: RegistryProps) {
    super(scope, id);
    const keep = checkInt("registry.keepImages", props.keepImages ?? 30, 1, 10000);
    const untaggedDays = checkInt("registry.untaggedExpiryDays", props.untaggedExpiryDays ?? 7, 1, 3650);

    this.repository = new EcrRepository(this, "Repository", {
      name: props.name,
      // Immutable tags make a tag name one image forever, so a deploy is reproducible.
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: "AES256" }],
      forceDelete: props.forceDelete ?? false,
    });

    new EcrLifecyclePolicy(this, "LifecyclePolicy", {
      repository: this.repository.name,
      policy: JSON.stringify({
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
}
