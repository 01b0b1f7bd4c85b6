# What Terraform decides before any provider does: variable validation, and
# the outputs. A mocked provider keeps these runs fast; plan.tftest.hcl plans
# with the real one.

# The mock still has the provider's validation check every argument, so the
# look-ups answer what AWS would.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  build_dir = "tests/fixtures/arm64"
}

run "edge_values_accepted" {
  command = plan

  variables {
    name                   = "a_b-C9"
    feature_plan           = "PLUS"
    log_retention_days     = 3653
    timeout                = 1
    memory_size            = 10240
    auth_session_validity  = 15
    access_token_validity  = 5
    id_token_validity      = 1440
    refresh_token_validity = 3650
    max_attempts           = 10
    link_ttl               = "24h"
    resend_interval        = "0s"
    login_min_duration     = "3000ms"
    sign_up                = "auto"
    sign_in_url            = "https://app.example.com/sign-in"
    allowed_origins        = ["https://app.example.com", "http://localhost:3000"]
    email_from             = "no-reply@example.com"
    ses_identity           = "no-reply@example.com"
    ses_sandbox_recipients = ["alice@example.com", "bob.o+test@mail.example.org"]
    link_store             = "dynamodb"
    login_limit_per_ip     = "1/1s"
    alarm_topic_arn        = "arn:aws:sns:eu-west-1:123456789012:ops-alarms"
    alarm_emails           = ["ops@example.com"]
  }
}

run "other_edge_values_accepted" {
  command = plan

  variables {
    feature_plan           = "ESSENTIALS"
    log_retention_days     = 1
    timeout                = 4
    memory_size            = 128
    auth_session_validity  = 3
    access_token_validity  = 1440
    id_token_validity      = 5
    refresh_token_validity = 1
    max_attempts           = 1
    link_ttl               = "60s"
    resend_interval        = "1h"
    login_min_duration     = "0ms"
    sign_in_url            = null
    link_store             = "attribute"
    login_limit_per_ip     = "off"
  }
}

run "longest_limit_window_accepted" {
  command = plan

  variables {
    link_ttl           = "1m"
    login_min_duration = "3s"
    login_limit_per_ip = "100000/24h"
  }
}

run "values_rejected" {
  command = plan

  variables {
    name                   = "has space"
    feature_plan           = "lite"
    log_retention_days     = 31
    timeout                = 5
    memory_size            = 127
    auth_session_validity  = 2
    access_token_validity  = 1441
    id_token_validity      = 4
    refresh_token_validity = 0
    max_attempts           = 11
    link_ttl               = "25h"
    resend_interval        = "61m"
    login_min_duration     = "4s"
    sign_up                = "on"
    email_from             = "Example"
    sign_in_url            = "https://app.example.com/sign-in#x"
    allowed_origins        = ["https://app.example.com/"]
    ses_identity           = "localhost"
    ses_sandbox_recipients = ["alice@example.com", "*@example.com"]
    link_store             = "Dynamodb"
    login_limit_per_ip     = "1000001/15m"
    alarm_topic_arn        = "ops-alarms"
    alarm_emails           = ["Ops <ops@example.com>"]
  }

  expect_failures = [
    var.name, var.feature_plan, var.log_retention_days, var.timeout, var.memory_size,
    var.auth_session_validity, var.access_token_validity, var.id_token_validity, var.refresh_token_validity,
    var.max_attempts, var.link_ttl, var.resend_interval, var.login_min_duration, var.sign_up, var.email_from,
    var.sign_in_url, var.allowed_origins, var.ses_identity, var.ses_sandbox_recipients,
    var.link_store, var.login_limit_per_ip, var.alarm_topic_arn, var.alarm_emails,
  ]
}

run "more_values_rejected" {
  command = plan

  variables {
    name                   = ""
    feature_plan           = "PRO"
    log_retention_days     = 0
    timeout                = 2.5
    link_ttl               = "1h30m"
    resend_interval        = "-1s"
    login_min_duration     = "1m"
    sign_in_url            = "app.example.com"
    ses_identity           = "Example <no-reply@example.com>"
    ses_sandbox_recipients = ["a?ice@example.com"]
    link_store             = ""
    login_limit_per_ip     = "5/500ms"
  }

  expect_failures = [
    var.name, var.feature_plan, var.log_retention_days, var.timeout, var.link_ttl, var.resend_interval,
    var.login_min_duration, var.sign_in_url, var.ses_identity, var.ses_sandbox_recipients, var.link_store,
    var.login_limit_per_ip,
  ]
}

run "still_more_values_rejected" {
  command = plan

  variables {
    link_ttl               = "59s"
    resend_interval        = "off"
    email_from             = "Doe, John <john@example.com>"
    login_min_duration     = "3001ms"
    ses_sandbox_recipients = ["$${aws:username}@example.com"]
    login_limit_per_ip     = "30"
  }

  expect_failures = [var.link_ttl, var.resend_interval, var.email_from, var.login_min_duration, var.ses_sandbox_recipients, var.login_limit_per_ip]
}

run "limits_rejected" {
  command = plan

  variables {
    link_ttl               = ""
    ses_sandbox_recipients = ["Alice <alice@example.com>"]
    login_limit_per_ip     = "-5/15m"
  }

  expect_failures = [var.link_ttl, var.ses_sandbox_recipients, var.login_limit_per_ip]
}

run "limit_without_count_rejected" {
  command = plan

  variables {
    ses_sandbox_recipients = ["example.com"]
    login_limit_per_ip     = "0/15m"
  }

  expect_failures = [var.ses_sandbox_recipients, var.login_limit_per_ip]
}

run "limit_window_too_long_rejected" {
  command = plan

  variables {
    login_limit_per_ip = "5/48h"
  }

  expect_failures = [var.login_limit_per_ip]
}

# SES may hand back no DKIM data (an address identity, or none yet): the
# output is empty, never an index error at apply or refresh.
run "dkim_absent" {
  command = plan

  variables {
    ses_create_identity = true
  }

  override_resource {
    target          = aws_sesv2_email_identity.this[0]
    override_during = plan
    values          = { dkim_signing_attributes = [] }
  }

  assert {
    condition     = output.ses_dkim_tokens == []
    error_message = "no DKIM data must give no tokens"
  }
}

run "no_identity_no_tokens" {
  command = plan

  assert {
    condition     = output.ses_dkim_tokens == [] && output.links_table == "magic-links-links"
    error_message = "outputs without an identity of this stack"
  }
}
