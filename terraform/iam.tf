data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  description        = "Execution role of the ${var.name} function"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

# Least privilege: exactly the calls the code makes, each on its own resource.
data "aws_iam_policy_document" "this" {
  statement {
    sid = "UserPool"
    actions = [
      "cognito-idp:AdminGetUser",
      "cognito-idp:AdminCreateUser",
      "cognito-idp:AdminSetUserPassword",
      "cognito-idp:AdminUpdateUserAttributes",
    ]
    resources = [aws_cognito_user_pool.this.arn]
  }

  # SES v2 SendEmail is authorized on the sender identity and, when one is
  # used, on the configuration set. While the account is in the SES sandbox,
  # SES also authorizes the call on each recipient's verified identity: a send
  # to a verified tester fails with "not authorized to perform ses:SendEmail
  # on resource arn:...:identity/<tester's address>" when only the sender's
  # identity is allowed (reported in cloudposse/terraform-aws-ses#40,
  # GSA/data.gov#3810, aws/aws-sdk-js#3641). So the testers are listed one by
  # one (ses_sandbox_recipients, never a wildcard), and the list is empty
  # once the account has production access.
  #
  # ses:FromAddress is a condition key of the SES v2 SendEmail action (Service
  # Authorization Reference, "Amazon Simple Email Service v2"): it holds the
  # bare From address, without the display name. Pinning it to email_from's
  # keeps the role from sending as any other address of a verified domain.
  # StringEquals is case-sensitive: the address is compared as written in
  # email_from, which is what the function sends.
  statement {
    sid     = "SendMail"
    actions = ["ses:SendEmail"]
    resources = concat(
      [local.ses_identity_arn],
      var.ses_configuration_set == "" ? [] : [local.ses_configuration_set_arn],
      local.ses_sandbox_recipient_arns,
    )

    condition {
      test     = "StringEquals"
      variable = "ses:FromAddress"
      values   = [local.ses_from_address]
    }
  }

  # Its own log group only; the group is created by Terraform, so no
  # logs:CreateLogGroup.
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = var.name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}
