/**
 * The availability zone letters each region has, so a zone the region lacks (us-west-1d) is refused at
 * synth instead of by the EC2 API at apply. Zone names map to physical zones per account, and a few
 * regions serve older accounts a letter new ones never see; those are added by hand (us-west-1c,
 * ap-northeast-1b). Regions missing here are not checked.
 * Source: moto 5.2.1 `moto/ec2/models/availability_zones_and_regions.py` (its table of AWS's zones).
 * Refresh: `python3 -c "from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend as B; import json; print(json.dumps({r: ''.join(sorted(z.name[len(r):] for z in zs)) for r, zs in sorted(B.zones.items())}, indent=1))"`
 */
export const ZONE_LETTERS: Readonly<Record<string, string>> = {
  "af-south-1": "abc",
  "ap-east-1": "abc",
  "ap-east-2": "abc",
  "ap-northeast-1": "abcd",
  "ap-northeast-2": "abcd",
  "ap-northeast-3": "abc",
  "ap-south-1": "abc",
  "ap-south-2": "abc",
  "ap-southeast-1": "abc",
  "ap-southeast-2": "abc",
  "ap-southeast-3": "abc",
  "ap-southeast-4": "abc",
  "ap-southeast-5": "abc",
  "ap-southeast-6": "abc",
  "ap-southeast-7": "abc",
  "ca-central-1": "abd",
  "ca-west-1": "abc",
  "cn-north-1": "ab",
  "cn-northwest-1": "abc",
  "eu-central-1": "abc",
  "eu-central-2": "abc",
  "eu-north-1": "abc",
  "eu-south-1": "abc",
  "eu-south-2": "abc",
  "eu-west-1": "abc",
  "eu-west-2": "abc",
  "eu-west-3": "abc",
  "il-central-1": "abc",
  "me-central-1": "abc",
  "me-south-1": "abc",
  "mx-central-1": "abc",
  "sa-east-1": "abc",
  "us-east-1": "abcdef",
  "us-east-2": "abc",
  "us-gov-east-1": "abc",
  "us-gov-west-1": "abc",
  "us-west-1": "abc",
  "us-west-2": "abcd",
};
