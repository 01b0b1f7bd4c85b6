# ---------------------------------------------------------------------------
# What every team sets (see terraform.tfvars.example)
# ---------------------------------------------------------------------------

variable "email_from" {
  type        = string
  description = "Sender of the magic-link mails (EMAIL_FROM), e.g. \"Example <no-reply@example.com>\". Its address must belong to ses_identity."

  validation {
    # What Go's net/mail.ParseAddress accepts (config.Load checks EMAIL_FROM
    # with it at every start), less comments and groups: an address, or a
    # display name (words, or a "quoted string" for one with a comma) and
    # <address>. Spelled out piece by piece; testdata/email_from.json holds
    # the cases both checks must agree on (terraform_test.go, config_test.go).
    condition = can(regex(
      replace(replace(replace(replace(replace(
        "^[ \\t]*(?:{spec}|(?:{word}(?:[ \\t]*{word})*[ \\t]*)?<[ \\t]*{spec}>)[ \\t]*$",
        "{spec}", "(?:{atom}(?:\\.{atom})*|\"{qtext}+\")@[ \\t]*{atom}(?:\\.{atom})*"),
        "{word}", "(?:{phrase_atom}|\"{qtext}*\")"),
        "{atom}", "[^\\x00-\\x20\\x7f()<>\\[\\]:;@\\\\,\".]+"),                      # atext, RFC 5322 and 6532
        "{phrase_atom}", "[^\\x00-\\x20\\x7f()<>\\[\\]:;@\\\\,\"]+"),                # atext and dots (obs-phrase)
      "{qtext}", "(?:[^\"\\\\\\x00-\\x08\\x0a-\\x1f\\x7f]|\\\\[\\x09\\x20-\\x7e])"), # in a "quoted string"
      var.email_from
    ))
    error_message = "email_from must be one address, optionally with a display name: \"Example <no-reply@example.com>\"; quote a display name with a comma: \"\\\"Doe, John\\\" <john@example.com>\"."
  }
}

variable "ses_identity" {
  type        = string
  description = "The verified SES identity the mails are sent from: the address of email_from, or its domain (e.g. example.com). The function may send only as this identity."

  validation {
    condition     = can(regex("^([^@\\s<>]+@)?[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$", var.ses_identity))
    error_message = "ses_identity must be an email address (no-reply@example.com) or a domain (example.com)."
  }
}

# ---------------------------------------------------------------------------
# Naming
# ---------------------------------------------------------------------------

variable "name" {
  type        = string
  description = "Name of the user pool, function, execution role, HTTP API, links table, alarms and log groups. Changing it after the first apply replaces the user pool: every user is lost (with deletion_protection the apply fails half-way instead)."
  default     = "magic-links"

  validation {
    # Lambda function and IAM role names allow at most 64 characters.
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 letters, digits, '-' or '_'."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags put on every resource that takes tags."
  default     = {}
}

# ---------------------------------------------------------------------------
# Cognito
# ---------------------------------------------------------------------------

variable "feature_plan" {
  type        = string
  description = "Cognito feature plan (user pool tier). LITE is the cheapest and runs the custom-auth and other Lambda triggers this needs."
  default     = "LITE"

  validation {
    condition     = contains(["LITE", "ESSENTIALS", "PLUS"], var.feature_plan)
    error_message = "feature_plan must be LITE, ESSENTIALS or PLUS."
  }
}

variable "self_sign_up" {
  type        = bool
  description = "Let anyone call Cognito's public SignUp API. Off: accounts come from an administrator or from sign_up = \"auto\" (the function creates them)."
  default     = false
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the user pool (and so its users). Set false, apply, then destroy to tear the stack down."
  default     = true
}

variable "auth_session_validity" {
  type        = number
  description = "Minutes a Cognito custom-auth session lasts between InitiateAuth and the answer (3-15)."
  default     = 3

  validation {
    condition     = var.auth_session_validity >= 3 && var.auth_session_validity <= 15 && floor(var.auth_session_validity) == var.auth_session_validity
    error_message = "auth_session_validity must be a whole number of minutes from 3 to 15."
  }
}

variable "access_token_validity" {
  type        = number
  description = "Minutes an access token is valid (5-1440)."
  default     = 60

  validation {
    condition     = var.access_token_validity >= 5 && var.access_token_validity <= 1440 && floor(var.access_token_validity) == var.access_token_validity
    error_message = "access_token_validity must be a whole number of minutes from 5 to 1440."
  }
}

variable "id_token_validity" {
  type        = number
  description = "Minutes an ID token is valid (5-1440)."
  default     = 60

  validation {
    condition     = var.id_token_validity >= 5 && var.id_token_validity <= 1440 && floor(var.id_token_validity) == var.id_token_validity
    error_message = "id_token_validity must be a whole number of minutes from 5 to 1440."
  }
}

variable "refresh_token_validity" {
  type        = number
  description = "Days a refresh token is valid (1-3650)."
  default     = 30

  validation {
    condition     = var.refresh_token_validity >= 1 && var.refresh_token_validity <= 3650 && floor(var.refresh_token_validity) == var.refresh_token_validity
    error_message = "refresh_token_validity must be a whole number of days from 1 to 3650."
  }
}

# ---------------------------------------------------------------------------
# The function's behaviour (DESIGN.md "Contract: configuration")
# ---------------------------------------------------------------------------

variable "sign_in_url" {
  type        = string
  description = "Page that finishes sign-in (SIGN_IN_URL); the link is this URL plus a fragment. Null: the API's own GET /sign-in."
  default     = null

  validation {
    condition     = var.sign_in_url == null || can(regex("^https?://[^/?#]+[^#]*$", var.sign_in_url))
    error_message = "sign_in_url must be an absolute http(s) URL without a fragment."
  }
}

variable "allowed_origins" {
  type        = list(string)
  description = "Origins allowed to call the API from a browser (CORS, ALLOWED_ORIGINS), e.g. [\"https://app.example.com\"]. Empty: the origin of sign_in_url."
  default     = []

  validation {
    condition     = alltrue([for o in var.allowed_origins : can(regex("^https?://[^/?#]+$", o))])
    error_message = "Each allowed origin must be scheme and host only, like https://app.example.com (no path, no trailing slash)."
  }
}

variable "link_ttl" {
  type        = string
  description = "How long a link works (LINK_TTL), as a whole number of s, m or h: 1m to 24h. 10m follows OWASP ASVS 5.0 V6.5.5."
  default     = "10m"

  validation {
    condition = can(regex("^[0-9]+[smh]$", var.link_ttl)) && try(
      tonumber(trimsuffix(var.link_ttl, substr(var.link_ttl, -1, 1))) * { s = 1, m = 60, h = 3600 }[substr(var.link_ttl, -1, 1)] >= 60 &&
      tonumber(trimsuffix(var.link_ttl, substr(var.link_ttl, -1, 1))) * { s = 1, m = 60, h = 3600 }[substr(var.link_ttl, -1, 1)] <= 86400,
      false
    )
    error_message = "link_ttl must be like 15m, 900s or 1h, from 1m to 24h."
  }
}

variable "resend_interval" {
  type        = string
  description = "Least time between two mails to the same user (RESEND_INTERVAL), as a whole number of s, m or h: 0s (off) to 1h."
  default     = "1m"

  validation {
    condition = can(regex("^[0-9]+[smh]$", var.resend_interval)) && try(
      tonumber(trimsuffix(var.resend_interval, substr(var.resend_interval, -1, 1))) * { s = 1, m = 60, h = 3600 }[substr(var.resend_interval, -1, 1)] <= 3600,
      false
    )
    error_message = "resend_interval must be like 1m, 30s or 0s, from 0s to 1h."
  }
}

variable "login_min_duration" {
  type        = string
  description = "Least time POST /login takes to answer 202 (LOGIN_MIN_DURATION), in whole ms or s: 0ms (off) to 3s. Hides whether an address has an account from the response time; it must stay well under the function's timeout."
  default     = "800ms"

  validation {
    condition = can(regex("^[0-9]+(ms|s)$", var.login_min_duration)) && try(
      tonumber(regex("^[0-9]+", var.login_min_duration)) * (can(regex("ms$", var.login_min_duration)) ? 1 : 1000) <= 3000,
      false
    )
    error_message = "login_min_duration must be like 800ms, 1s or 0ms, from 0ms to 3s."
  }
}

variable "link_store" {
  type        = string
  description = "Where link state lives: \"dynamodb\" (a table of this stack, LINKS_TABLE: strict single use, per-IP limit) or \"attribute\" (the user's custom:authChallenge, the seed's mode; no table)."
  default     = "dynamodb"

  validation {
    condition     = contains(["dynamodb", "attribute"], var.link_store)
    error_message = "link_store must be \"dynamodb\" or \"attribute\"."
  }
}

variable "login_limit_per_ip" {
  type        = string
  description = "POST /login requests one client IP may make per window (LOGIN_LIMIT_PER_IP), as N/duration like 100/15m (window 1s to 24h, one unit of s, m or h), or \"off\". Needs the links table: ignored with link_store = \"attribute\"."
  default     = "100/15m"

  validation {
    condition = var.login_limit_per_ip == "off" || can(regex("^[1-9][0-9]{0,6}/[0-9]+[smh]$", var.login_limit_per_ip)) && try(
      tonumber(regex("^[0-9]+", var.login_limit_per_ip)) <= 1000000 &&
      tonumber(regex("/([0-9]+)", var.login_limit_per_ip)[0]) * { s = 1, m = 60, h = 3600 }[substr(var.login_limit_per_ip, -1, 1)] >= 1 &&
      tonumber(regex("/([0-9]+)", var.login_limit_per_ip)[0]) * { s = 1, m = 60, h = 3600 }[substr(var.login_limit_per_ip, -1, 1)] <= 86400,
      false
    )
    error_message = "login_limit_per_ip must be \"off\" or N/duration with N a whole number from 1 to 1000000 and a window from 1s to 24h, like 100/15m, 10/30s or 500/1h."
  }
}

variable "sign_up" {
  type        = string
  description = "What a sign-in request for an unknown address does (SIGN_UP): \"off\" sends nothing, \"auto\" creates the account and sends a link."
  default     = "off"

  validation {
    condition     = contains(["off", "auto"], var.sign_up)
    error_message = "sign_up must be \"off\" or \"auto\"."
  }
}

variable "max_attempts" {
  type        = number
  description = "Wrong answers per Cognito session before authentication fails (MAX_ATTEMPTS, 1-10)."
  default     = 3

  validation {
    condition     = var.max_attempts >= 1 && var.max_attempts <= 10 && floor(var.max_attempts) == var.max_attempts
    error_message = "max_attempts must be a whole number from 1 to 10."
  }
}

# ---------------------------------------------------------------------------
# SES
# ---------------------------------------------------------------------------

variable "ses_create_identity" {
  type        = bool
  description = "Create ses_identity in SES. Leave false when it is already verified (creating an existing identity fails)."
  default     = false
}

variable "ses_configuration_set" {
  type        = string
  description = "Name of an existing SES configuration set to send with (SES_CONFIGURATION_SET). Empty: none."
  default     = ""

  validation {
    condition     = var.ses_configuration_set == "" || can(regex("^[A-Za-z0-9_-]{1,64}$", var.ses_configuration_set))
    error_message = "ses_configuration_set must be empty or 1-64 letters, digits, '-' or '_'."
  }
}

variable "ses_sandbox_recipients" {
  type        = list(string)
  description = "While the account is in the SES sandbox: the verified recipient addresses (testers) the function may send to; SES authorizes sandbox sends against each recipient's identity too. Leave empty once production access is granted."
  default     = []

  validation {
    # Each one becomes an identity ARN in the execution role's policy: a bare
    # address only, without the IAM wildcards * and ? or a policy variable ($)
    # that would widen it to other identities.
    condition     = alltrue([for addr in var.ses_sandbox_recipients : can(regex("^[^@\\s<>*?$]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$", addr))])
    error_message = "Each ses_sandbox_recipients entry must be a bare email address like tester@example.com: no display name, no * or ? or $."
  }
}

# ---------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------

variable "build_dir" {
  type        = string
  description = "Directory holding what make build writes: bootstrap.zip (the function) and bootstrap.json (its architecture, arm64 or x86_64, which the function takes). Null: build/ at the repository root. Choose the architecture with make build LAMBDA_ARCH=x86_64, not here."
  default     = null
}

variable "templates_dir" {
  type        = string
  description = "Directory of mail template overrides (TEMPLATES_DIR): <lang>/subject.txt, <lang>/mail.txt, <lang>/mail.html replace the built-in files of the same name. Build the zip with the same directory (make build TEMPLATES_DIR=...; make deploy TEMPLATES_DIR=... passes it here too): the plan fails when the zip's templates are not this directory's. A relative path is from where Terraform runs (terraform/). Empty: built-in templates only."
  default     = ""
}

variable "timeout" {
  type        = number
  description = "Seconds the function may run (1-4): Cognito waits at most 5 s for a trigger."
  default     = 4

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 4 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 1 to 4, under Cognito's 5 s trigger limit."
  }
}

variable "memory_size" {
  type        = number
  description = "Memory of the function in MB (128-10240); CPU grows with it."
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days CloudWatch keeps the function's logs and the API's access logs."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one CloudWatch accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

# ---------------------------------------------------------------------------
# HTTP API
# ---------------------------------------------------------------------------

variable "throttling_rate_limit" {
  type        = number
  description = "Steady requests per second the API accepts across all routes (Cognito allows 25 attribute updates per second per account)."
  default     = 20

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be positive."
  }
}

variable "throttling_burst_limit" {
  type        = number
  description = "Requests the API accepts in a burst above the steady rate."
  default     = 40

  validation {
    condition     = var.throttling_burst_limit >= 1 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be a whole number of at least 1."
  }
}

# ---------------------------------------------------------------------------
# Alarms (alarms.tf)
# ---------------------------------------------------------------------------

variable "alarm_topic_arn" {
  type        = string
  description = "ARN of an existing SNS topic the alarms notify (in alarm and back to OK). Null: a topic named <name>-alarms is created when alarm_emails is set; otherwise the alarms notify nobody."
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:ops-alarms."
  }
}

variable "alarm_emails" {
  type        = list(string)
  description = "Addresses subscribed to the alarm topic (each confirms by mail). Empty: no subscriptions."
  default     = []

  validation {
    condition     = alltrue([for addr in var.alarm_emails : can(regex("^[^@\\s<>]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$", addr))])
    error_message = "Each alarm_emails entry must be a bare address like ops@example.com."
  }
}
