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
  # SES may return no DKIM attributes (an address identity, or none yet):
  # empty then, never an index error at apply or refresh.
  value = flatten([for id in aws_sesv2_email_identity.this : [for dkim in id.dkim_signing_attributes : dkim.tokens == null ? [] : dkim.tokens]])
}

output "links_table" {
  description = "Name of the DynamoDB links table (LINKS_TABLE); null with link_store = \"attribute\"."
  value       = one(aws_dynamodb_table.links[*].name)
}
