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
      "cognito-idp:AdminDeleteUserAttributes",
    ]
    resources = [aws_cognito_user_pool.this.arn]
  }

  # SES v2 SendEmail is authorized on the sender identity and, when one is
  # used, on the configuration set.
  statement {
    sid     = "SendMail"
    actions = ["ses:SendEmail"]
    resources = concat(
      [local.ses_identity_arn],
      var.ses_configuration_set == "" ? [] : [local.ses_configuration_set_arn],
    )
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
