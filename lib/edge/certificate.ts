import { Construct } from "constructs";
import { TerraformIterator, Token } from "cdktf";
import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { holdings, ResourceKind } from "../core/resource-kind";

/**
 * HTTPS: the ACM certificate, its DNS validation and the load balancer's alias, as records in the hosted zone
 * the settings name (the zone is the account's, not the stack's).
 */
export const CERTIFICATE = new ResourceKind({
  name: "ACM certificate and DNS records",
  file: __filename,
  types: ["aws_acm_certificate", "aws_acm_certificate_validation", "aws_route53_record"],
  deploy: { services: ["acm", "route53"], tag: ["acm:AddTagsToCertificate"], untag: ["acm:RemoveTagsFromCertificate"] },
  endpoints: ["acm", "route53"],
  price: { why: "public certificates are free; records cost nothing beyond the hosted zone, which is the account's" },
  inventory: async (aws) => [
    ...holdings(
      "acm",
      "certificate",
      ((await aws("acm", "ListCertificates")).CertificateSummaryList ?? []).map((c: { DomainName?: string }) => c.DomainName),
    ),
    ...holdings(
      "route53",
      "hosted-zone",
      ((await aws("route-53", "ListHostedZones")).HostedZones ?? []).map((z: { Name?: string }) => z.Name),
    ),
  ],
  alarms: { why: "ACM renews what it validated by DNS; a certificate near expiry is ACM's own event, not an alarm the stack can act on" },
});

export interface CertificateProps {
  readonly domainName: string;
  readonly hostedZoneId: string;
}

/** A new ACM certificate for `domainName`, validated by DNS records in the given hosted zone. */
export class Certificate extends Construct {
  readonly certificate: AcmCertificate;
  /** Resolves once ACM has issued the certificate; listeners use this ARN so they wait for it. */
  readonly validatedArn: string;

  constructor(scope: Construct, id: string, props: CertificateProps) {
    super(scope, id);
    this.certificate = new AcmCertificate(this, "Certificate", {
      domainName: props.domainName,
      validationMethod: "DNS",
      lifecycle: { createBeforeDestroy: true },
    });
    const options = TerraformIterator.fromComplexList(this.certificate.domainValidationOptions, "domain_name");
    const records = new Route53Record(this, "ValidationRecord", {
      forEach: options,
      zoneId: props.hostedZoneId,
      name: options.getString("resource_record_name"),
      type: options.getString("resource_record_type"),
      records: [options.getString("resource_record_value")],
      ttl: 60,
      allowOverwrite: true,
    });
    const validation = new AcmCertificateValidation(this, "Validation", {
      certificateArn: this.certificate.arn,
      validationRecordFqdns: Token.asList(TerraformIterator.fromResources(records).pluckProperty("fqdn")),
    });
    this.validatedArn = validation.certificateArn;
  }
}
