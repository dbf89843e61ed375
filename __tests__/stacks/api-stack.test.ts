import { runOptionsFromEnv } from "../../lib/settings/environment/settings";
import { env, synth } from "../support/helpers";
import { OFFLINE_ACCOUNT_ID } from "../../stacks/api-stack";

describe("ApiStack", () => {
  test("tags every resource with Project, Environment and ManagedBy through provider default tags", () => {
    const provider = synth(env({ project: "shop", tags: { CostCenter: "42" } })).provider.aws[0];
    expect(provider.default_tags).toEqual([{ tags: { CostCenter: "42", Project: "shop", Environment: "test", ManagedBy: "cdktf" } }]);
  });

  test("pins the AWS provider to the version the bindings were generated for", () => {
    expect(synth(env()).terraform.required_providers).toEqual({ aws: { source: "aws", version: "5.100.0" } });
  });

  test("uses the region from settings", () => {
    expect(synth(env({ region: "eu-west-1" })).provider.aws[0].region).toBe("eu-west-1");
  });

  test("defaults the zones to <region>a and <region>b", () => {
    const tf = synth({ name: "test", region: "eu-central-1" });
    const zones = Object.values(tf.resource.aws_subnet).map((s) => s.availability_zone);
    expect(new Set(zones)).toEqual(new Set(["eu-central-1a", "eu-central-1b"]));
  });

  test("deploy mode asks AWS for credentials and account as usual", () => {
    const provider = synth(env()).provider.aws[0];
    expect(provider.skip_credentials_validation).toBeUndefined();
    expect(provider.access_key).toBeUndefined();
  });

  test("offline mode makes no AWS API call: skips credential, account and metadata checks", () => {
    const provider = synth(env(), { offline: true }).provider.aws[0];
    expect(provider).toMatchObject({
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: "true",
    });
  });

  test("offline mode plans against a throwaway local state, never the real one", () => {
    expect(synth(env(), { offline: true }).terraform.backend).toEqual({ local: { path: "offline.tfstate" } });
  });

  test("one lookup at plan time, the account (key policies name it); offline, where no credentials can ask, none", () => {
    expect(Object.keys(synth(env()).data ?? {})).toEqual(["aws_caller_identity"]);
    expect(synth(env(), { offline: true }).data).toBeUndefined();
    expect(JSON.stringify(synth(env(), { offline: true }))).toContain(`:${OFFLINE_ACCOUNT_ID}:`);
  });

  test("OFFLINE=1 (or true/yes) turns offline mode on", () => {
    expect(runOptionsFromEnv({ OFFLINE: "1" }).offline).toBe(true);
    expect(runOptionsFromEnv({ OFFLINE: "true" }).offline).toBe(true);
    expect(runOptionsFromEnv({}).offline).toBe(false);
    expect(runOptionsFromEnv({ OFFLINE: "0" }).offline).toBe(false);
  });

  describe("state", () => {
    test("is local by default, in the project folder under a relative path", () => {
      expect(synth(env()).terraform.backend).toEqual({ local: { path: "../../../terraform.test.tfstate" } });
    });

    test("s3 backend is encrypted and locked with S3-native lock files", () => {
      const tf = synth(env({ state: { backend: "s3", bucket: "acme-tfstate" } }));
      expect(tf.terraform.backend).toEqual({
        s3: { bucket: "acme-tfstate", key: "rest-api/test/terraform.tfstate", region: "eu-west-1", encrypt: true, use_lockfile: true },
      });
    });

    test("s3 backend rejects a bucket name S3 would reject", () => {
      expect(() => synth(env({ state: { backend: "s3", bucket: "Bad_Bucket" } }))).toThrow(
        /Invalid setting state\.bucket = "Bad_Bucket": not an S3 bucket name/,
      );
    });
  });

  describe("rejects bad identity settings at synth", () => {
    test("an environment name with capitals", () => {
      expect(() => synth(env({ name: "Dev" }))).toThrow(/Invalid setting name = "Dev": not a short lowercase name/);
    });
    test("a project name that is too long", () => {
      expect(() => synth(env({ project: "a-very-long-project-name-x" }))).toThrow(
        /Invalid setting project = "a-very-long-project-name-x": not a short lowercase name/,
      );
    });
    test("an unknown region format", () => {
      expect(() => synth(env({ region: "europe" }))).toThrow(
        /Invalid setting region = "europe": not a known AWS region\. Allowed: the closest are "eu-north-1", .*all are in lib\/settings\/data\/regions\.ts\./,
      );
    });
    test("a single zone", () => {
      expect(() => synth(env({ availabilityZones: ["eu-west-1a"] }))).toThrow(
        /Invalid setting availabilityZones = \["eu-west-1a"\]: 1 zones given; the load balancer and the database need two or more/,
      );
    });
    test("a duplicated zone", () => {
      expect(() => synth(env({ availabilityZones: ["eu-west-1a", "eu-west-1a"] }))).toThrow(/a zone is listed twice/);
    });
    test("a zone of another region", () => {
      expect(() => synth(env({ availabilityZones: ["eu-west-1a", "us-east-1b"] }))).toThrow(/"us-east-1b" is not a zone of region eu-west-1/);
    });
    test("a tag the stack owns", () => {
      expect(() => synth(env({ tags: { Project: "x" } }))).toThrow(/"Project" is set by the stack/);
    });
  });
});
