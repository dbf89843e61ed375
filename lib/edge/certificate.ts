import { Construct } from "constructs";
import { TerraformIterator, Token } from "cdktf";
import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";

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
