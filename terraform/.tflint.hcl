# tflint configuration for terraform/ (run by scripts/tflint.sh).
# Only the bundled terraform ruleset: it needs no plugin download, so it runs on
# a machine that reaches nothing but the Go module proxy.
config {
  call_module_type = "none"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
