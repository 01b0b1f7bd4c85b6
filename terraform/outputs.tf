output "sign_in_url" {
  description = "The page a magic link opens (SIGN_IN_URL); open it without a fragment to ask for a link."
  value       = local.sign_in_url
}

output "api_url" {
  description = "Base URL of the HTTP API (POST /login, GET /, GET /sign-in, GET /config.json, GET /assets/*, GET /me)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "user_pool_id" {
  description = "ID of the Cognito user pool, for admin commands such as creating the first user."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_client_id" {
  description = "ID of the browser app client the sign-in page uses."
  value       = aws_cognito_user_pool_client.this.id
}

output "function_name" {
  description = "Name of the Lambda function, for its logs (/aws/lambda/<name>) and invocations."
  value       = aws_lambda_function.this.function_name
}

output "ses_dkim_tokens" {
  description = "DKIM tokens to publish as CNAME records when ses_create_identity created a domain identity; empty otherwise."
  value       = var.ses_create_identity ? aws_sesv2_email_identity.this[0].dkim_signing_attributes[0].tokens : []
}
