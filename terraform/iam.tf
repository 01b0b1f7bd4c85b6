# The policies are plain jsonencode() values rather than aws_iam_policy_document
# data sources: Terraform computes them itself, so a plan shows (and
# tests/*.tftest.hcl check) the exact statements, where a data source that
# depends on resources not yet created would be read only at apply.

resource "aws_iam_role" "this" {
  name        = var.name
  description = "Execution role of the ${var.name} function"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

locals {
  # Least privilege: exactly the calls the code makes, each on its own resource.
  policy_statements = concat(
    [
      {
        Sid    = "UserPool"
        Effect = "Allow"
        Action = [
          "cognito-idp:AdminGetUser",
          "cognito-idp:AdminCreateUser",
          "cognito-idp:AdminSetUserPassword",
          "cognito-idp:AdminUpdateUserAttributes",
        ]
        Resource = [aws_cognito_user_pool.this.arn]
      },

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
      {
        Sid    = "SendMail"
        Effect = "Allow"
        Action = ["ses:SendEmail"]
        Resource = concat(
          [local.ses_identity_arn],
          var.ses_configuration_set == "" ? [] : [local.ses_configuration_set_arn],
          local.ses_sandbox_recipient_arns,
        )
        Condition = { StringEquals = { "ses:FromAddress" = [local.ses_from_address] } }
      },

      # Its own log group only; the group is created by Terraform, so no
      # logs:CreateLogGroup.
      {
        Sid      = "Logs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.function.arn}:*"]
      },
    ],

    # The links table, with exactly the item calls the store makes (no Query,
    # Scan or batch calls, no index), only when the stack has the table.
    [for t in aws_dynamodb_table.links : {
      Sid      = "LinkStore"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      Resource = [t.arn]
    }],
  )
}

resource "aws_iam_role_policy" "this" {
  name   = var.name
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.policy_statements })
}
