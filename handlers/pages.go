package handlers

import "github.com/go-chi/chi/v5"

// mountPages adds the sign-in page routes (GET /, /sign-in, /config.json, /me).
func mountPages(r chi.Router, d Deps) {}
