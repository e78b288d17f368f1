//go:build !pprof

package main

import "net/http"

// withDebug is the identity in release builds; see pprof.go.
func withDebug(h http.Handler) http.Handler { return h }
