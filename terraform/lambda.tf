# The Makefile builds build/bootstrap (linux, -tags lambda.norpc); Terraform
# zips it itself, so no zip tool is needed on the deploying machine. A fixed
# file mode keeps the hash stable across checkouts and keeps bootstrap executable.
data "archive_file" "bootstrap" {
  type             = "zip"
  source_file      = coalesce(var.bootstrap_path, "${path.module}/../build/bootstrap")
  output_path      = "${path.module}/../build/bootstrap.zip"
  output_file_mode = "0755"
}

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "this" {
  function_name = local.function_name
  description   = "Magic-link sign-in: Cognito triggers and the HTTP API"
  role          = aws_iam_role.this.arn

  runtime       = "provided.al2023"
  architectures = [var.architecture]
  handler       = "bootstrap"

  filename         = data.archive_file.bootstrap.output_path
  source_code_hash = data.archive_file.bootstrap.output_base64sha256

  # Cognito waits at most 5 s for a trigger; an answer later than that is lost.
  timeout     = var.timeout
  memory_size = var.memory_size

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  environment {
    variables = merge(
      {
        USER_POOL_ID        = aws_cognito_user_pool.this.id
        USER_POOL_CLIENT_ID = aws_cognito_user_pool_client.this.id
        EMAIL_FROM          = var.email_from
        SIGN_IN_URL         = local.sign_in_url
        LINK_TTL            = var.link_ttl
        RESEND_INTERVAL     = var.resend_interval
        LOGIN_MIN_DURATION  = var.login_min_duration
        SIGN_UP             = var.sign_up
        MAX_ATTEMPTS        = tostring(var.max_attempts)
        ALLOWED_ORIGINS     = join(",", local.allowed_origins)
      },
      var.ses_configuration_set == "" ? {} : { SES_CONFIGURATION_SET = var.ses_configuration_set },
    )
  }

  # The role's permissions must exist before Cognito or API Gateway first
  # invoke the function.
  depends_on = [aws_iam_role_policy.this]
}

resource "aws_lambda_permission" "cognito" {
  statement_id  = "AllowCognitoTriggers"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "cognito-idp.amazonaws.com"
  source_arn    = aws_cognito_user_pool.this.arn
}

resource "aws_lambda_permission" "apigateway" {
  statement_id  = "AllowHTTPAPI"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  # Any route of any stage of this API only.
  source_arn = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
