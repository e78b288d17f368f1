//go:build pprof

package main

import (
	"net/http"
	"net/http/pprof"
)

// withDebug, in a build with -tags pprof (cmd/loadbench -profile makes
// one), adds the Go profiler's /debug/pprof/ routes to serve's address for
// profiling under load. Release builds have no such routes
// (pprof_off.go).
func withDebug(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.Handle("/", next)
	return mux
}
