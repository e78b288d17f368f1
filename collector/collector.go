// Package collector receives beacons: it validates them, decides what may be
// stored, turns them into raw events and hands them to the buffered writer.
// Its handlers never wait on the store.
package collector

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// Options are what a Collector needs.
type Options struct {
	Sites  *Sites
	Buffer *Buffer
	Log    *slog.Logger
	// Now is the clock; tests inject one.
	Now func() time.Time
}

// Collector serves the beacon endpoints.
type Collector struct {
	sites  *Sites
	buffer *Buffer
	log    *slog.Logger
	now    func() time.Time
}

// New returns a collector.
func New(opts Options) *Collector {
	c := &Collector{sites: opts.Sites, buffer: opts.Buffer, log: opts.Log, now: opts.Now}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// HandleEvent is POST /api/event: one event or a small batch. 202 when
// something was stored, 204 when everything was dropped, 4xx for bad input
// (and then nothing of the body is stored).
func (c *Collector) HandleEvent(w http.ResponseWriter, r *http.Request) error {
	setCORS(w)
	if err := checkContentType(r); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return httpapi.Errorf(http.StatusRequestEntityTooLarge, "body over %d bytes", MaxBodyBytes)
		}
		return &httpapi.Error{Code: http.StatusBadRequest, Msg: "could not read body", Err: err}
	}
	beacons, err := decodeBeacons(body)
	if err != nil {
		return err
	}
	events := make([]store.Event, 0, len(beacons))
	for i := range beacons {
		e, err := c.event(r.Context(), &beacons[i])
		if err != nil {
			return err
		}
		events = append(events, e)
	}
	for i, e := range events {
		if !c.buffer.Enqueue(e) {
			// Earlier events of this batch are accepted; the client retries
			// the whole batch and the event ids make the retry idempotent.
			c.log.Warn("queue full, rejecting events", "rejected", len(events)-i)
			w.Header().Set("Retry-After", "1")
			return httpapi.Errorf(http.StatusServiceUnavailable, "busy, retry later")
		}
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// event validates a beacon and builds the row to store.
func (c *Collector) event(ctx context.Context, b *Beacon) (store.Event, error) {
	p, err := validate(b)
	if err != nil {
		return store.Event{}, err
	}
	site, ok, err := c.sites.Lookup(ctx, p.site)
	if err != nil {
		return store.Event{}, &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "store unavailable, retry later", Err: err}
	}
	if !ok {
		return store.Event{}, httpapi.Errorf(http.StatusNotFound, "unknown site %q: add it with footfall site add", p.site)
	}
	now := c.now().UTC().Truncate(time.Second)
	e := store.Event{
		ID:          uuid.New(),
		SiteID:      site.ID,
		Type:        p.typ,
		Time:        now,
		ReceivedAt:  now,
		Host:        p.url.Hostname(),
		Path:        cleanPath(p.url.EscapedPath()),
		Name:        b.Name,
		Target:      b.Target,
		Props:       p.props,
		ScreenWidth: uint16(b.W),
		EngagedMS:   uint32(b.MS),
	}
	if p.referrer != nil {
		// The referrer keeps no query: it may carry another site's identifiers.
		e.ReferrerHost = p.referrer.Hostname()
		e.Referrer = p.referrer.Scheme + "://" + p.referrer.Host + cleanPath(p.referrer.EscapedPath())
	}
	return e, nil
}

func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// HandlePreflight answers CORS preflights for the beacon endpoint: the
// snippet may post from any page that embeds it. No credentials are allowed.
func (c *Collector) HandlePreflight(w http.ResponseWriter, r *http.Request) error {
	setCORS(w)
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func setCORS(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
}
