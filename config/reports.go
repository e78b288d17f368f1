package config

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
)

// Report is one scheduled e-mail report of a site: after each period ends
// (daily, weekly from Monday to Sunday, or monthly, in the site's zone),
// footfall aggregate (or serve's in-process aggregation) sends each
// recipient the period's key figures, top pages and top sources against
// the previous period (docs/operations.md).
type Report struct {
	Schedule string `yaml:"schedule"`
	// To lists the recipients' addresses (at most MaxReportRecipients).
	To []string `yaml:"to"`
}

// MaxReportRecipients bounds a report's list of recipients.
const MaxReportRecipients = 100

// validateReports checks a site's reports and keeps each address in its
// plain form (name@domain, without a display name).
func validateReports(where string, reports []Report) []error {
	var errs []error
	schedules := map[string]bool{}
	for i := range reports {
		r := &reports[i]
		at := fmt.Sprintf("%s.reports[%d]", where, i)
		if !slices.Contains(Schedules, r.Schedule) {
			errs = append(errs, fmt.Errorf("%s.schedule: want %s, got %q", at, strings.Join(Schedules, ", "), r.Schedule))
		} else if schedules[r.Schedule] {
			errs = append(errs, fmt.Errorf("%s.schedule: %s is listed twice; put every recipient in one report", at, r.Schedule))
		}
		schedules[r.Schedule] = true
		if len(r.To) == 0 || len(r.To) > MaxReportRecipients {
			errs = append(errs, fmt.Errorf("%s.to: want 1 to %d addresses, got %d", at, MaxReportRecipients, len(r.To)))
		}
		seen := map[string]bool{}
		for j, addr := range r.To {
			a, err := mail.ParseAddress(addr)
			if err != nil || a.Name != "" {
				errs = append(errs, fmt.Errorf("%s.to[%d]: want a plain address such as someone@example.com", at, j))
				continue
			}
			r.To[j] = a.Address
			if key := strings.ToLower(a.Address); seen[key] {
				errs = append(errs, fmt.Errorf("%s.to[%d]: listed twice", at, j))
			} else {
				seen[key] = true
			}
		}
	}
	return errs
}
