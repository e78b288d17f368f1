// Package unsubscribe serves the unsubscribe links of the scheduled e-mail
// reports (aggregator/mailreport): GET shows a page with one button, so
// that a mail scanner following links unsubscribes no one; POST (the
// button, or a mail client's RFC 8058 one-click request) records the
// unsubscribe. The link's token names the site and a hash of the address,
// signed with the store's report key; the address itself is nowhere in it.
package unsubscribe

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/footfall/footfall/aggregator/mailreport"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// Store is what the handler reads and records.
type Store interface {
	mailreport.KeyReader
	AddReportUnsubscribe(ctx context.Context, u store.ReportUnsubscribe) error
}

// Handler serves GET and POST /reports/unsubscribe/{token}.
type Handler struct {
	st     Store
	tokens *mailreport.Tokens
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Handler over st; log may be nil.
func New(st Store, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{st: st, tokens: mailreport.NewTokens(st), log: log, now: time.Now}
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>E-mail reports of {{.Domain}}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto;">
{{if .Done}}<p>You will receive no more e-mail reports of {{.Domain}}.</p>
{{else}}<p>Stop the e-mail reports of {{.Domain}} to this address?</p>
<form method="post"><button type="submit">Unsubscribe</button></form>
{{end}}</body></html>
`))

// verify reads the route's token: a 404 for a link that is not one of ours.
func (h *Handler) verify(r *http.Request) (mailreport.Unsubscribe, error) {
	u, err := h.tokens.Verify(r.Context(), httpapi.RouteVar(r, "token"))
	switch {
	case errors.Is(err, mailreport.ErrMalformed), errors.Is(err, mailreport.ErrUnknownKey), errors.Is(err, mailreport.ErrBadSignature):
		return u, &httpapi.Error{Code: http.StatusNotFound, Msg: "unknown or expired unsubscribe link", Err: err}
	case err != nil:
		return u, err
	}
	return u, nil
}

// HandlePage shows what the link does, with the button that does it.
func (h *Handler) HandlePage(w http.ResponseWriter, r *http.Request) error {
	u, err := h.verify(r)
	if err != nil {
		return err
	}
	return render(w, u.Domain, false)
}

// HandleUnsubscribe records the unsubscribe; doing it again changes nothing.
func (h *Handler) HandleUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	u, err := h.verify(r)
	if err != nil {
		return err
	}
	if err := h.st.AddReportUnsubscribe(r.Context(), store.ReportUnsubscribe{SiteID: u.SiteID, Recipient: u.Recipient, At: h.now().UTC().Truncate(time.Second)}); err != nil {
		return err
	}
	h.log.Info("e-mail report unsubscribe", "site", u.Domain)
	return render(w, u.Domain, true)
}

func render(w http.ResponseWriter, domain string, done bool) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the token is in the URL
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	return page.Execute(w, struct {
		Domain string
		Done   bool
	}{domain, done})
}
