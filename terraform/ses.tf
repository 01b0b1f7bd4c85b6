# The sender identity (an address or a domain). A team that already verified it
# in SES keeps ses_create_identity = false: creating an identity that exists
# fails, and the function only needs its ARN (local.ses_identity_arn). With true,
# Terraform creates it: SES mails a verification link to an address, or gives
# DKIM tokens (output ses_dkim_tokens) to publish in DNS for a domain.
resource "aws_sesv2_email_identity" "this" {
  count = var.ses_create_identity ? 1 : 0

  email_identity = var.ses_identity
}
