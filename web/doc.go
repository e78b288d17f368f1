// Package web will hold what a browser loads: the tracker snippet, the
// consent banner, the analysts' dashboard and the reports API. It holds no
// code yet.
package web
