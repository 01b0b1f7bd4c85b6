// Package web holds the sign-in pages: plain HTML, CSS and a little
// JavaScript, embedded in the binary so the one Lambda function serves them
// with no build step and no framework. The handlers package serves them; the
// JavaScript lives in separate files so a strict Content-Security-Policy
// (no inline scripts) holds.
package web

import "embed"

// FS holds index.html (GET /) and sign-in.html (GET /sign-in), which are
// html/template files rendered once per language at start; i18n/<lang>.json,
// their words (section "index" for index.html, "index.js" for what its
// script says, and so on); and assets/ (GET /assets/<name>).
//
//go:embed index.html sign-in.html i18n assets
var FS embed.FS
