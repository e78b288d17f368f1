package mailreport

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	texttemplate "text/template"

	"github.com/footfall/footfall/aggregator/report"
)

//go:embed templates
var templateFiles embed.FS

var funcs = map[string]any{
	"label":  label,
	"value":  formatValue,
	"change": formatChange,
	"key":    formatKey,
}

var (
	textTemplate = texttemplate.Must(texttemplate.New("report.txt").Funcs(funcs).ParseFS(templateFiles, "templates/report.txt"))
	htmlTemplate = htmltemplate.Must(htmltemplate.New("report.html").Funcs(funcs).ParseFS(templateFiles, "templates/report.html"))
)

// Message is a rendered report: its subject and both bodies.
type Message struct {
	Subject, Text, HTML string
}

// view is what the templates see.
type view struct {
	*Figures
	Sections    []section
	Unsubscribe string // the recipient's unsubscribe URL
}

type section struct {
	Title   string
	Entries []Entry
}

// Render renders f for one recipient, whose unsubscribe link is unsubscribe.
func Render(f *Figures, unsubscribe string) (Message, error) {
	v := view{Figures: f, Unsubscribe: unsubscribe,
		Sections: []section{{"Top pages", f.TopPages}, {"Top sources", f.TopSources}}}
	var text, html bytes.Buffer
	if err := textTemplate.Execute(&text, v); err != nil {
		return Message{}, fmt.Errorf("render report: %w", err)
	}
	if err := htmlTemplate.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("render report: %w", err)
	}
	return Message{
		Subject: fmt.Sprintf("%s: %s report, %s to %s", f.Site, f.Schedule, f.From, f.To),
		Text:    text.String(), HTML: html.String(),
	}, nil
}

var labels = map[string]string{
	"visitors": "Visitors", "visits": "Visits", "pageviews": "Pageviews",
	"bounce_rate": "Bounce rate", "visit_duration": "Visit duration",
}

func label(metric string) string { return labels[metric] }

// formatValue shows a figure as the planner gives it: counts as integers,
// the bounce rate in percent, the visit duration in seconds.
func formatValue(metric string, v any) string {
	switch metric {
	case "bounce_rate":
		return fmt.Sprint(v) + "%"
	case "visit_duration":
		return fmt.Sprint(v) + "s"
	}
	return fmt.Sprint(v)
}

// formatChange shows a change in percent with its sign; "new" where the
// previous period had nothing and this one has something.
func formatChange(c *float64, cur any) string {
	if c == nil {
		if report.Float(cur) > 0 {
			return "new"
		}
		return "no change"
	}
	s := strconv.FormatFloat(*c, 'f', -1, 64) + "%"
	if *c > 0 {
		s = "+" + s
	}
	return s
}

// formatKey names a breakdown value, the empty one included.
func formatKey(k string) string {
	if k == "" {
		return "(none)"
	}
	return k
}
