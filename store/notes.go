package store

import "time"

// Annotation is a dated note on a site's timeline (a release, a campaign),
// written by an analyst and drawn on the dashboard's chart.
type Annotation struct {
	ID        string // random, 32 hex digits
	SiteID    uint32
	Day       string // YYYY-MM-DD, a day of the site's time zone
	Text      string
	Author    string // who wrote it: a user's e-mail or a token's name
	CreatedAt time.Time
}

// Segment is a named set of report filters of a site ("country==DE;
// device==mobile"), saved by an analyst and chosen in the dashboard or by
// id in the API.
type Segment struct {
	ID        string // random, 32 hex digits
	SiteID    uint32
	Name      string
	Filters   string // as the reports' filters parameter
	Author    string
	CreatedAt time.Time
}
