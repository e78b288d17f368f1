package subject_test

import (
	"context"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/erasure"
	"github.com/footfall/footfall/collector/subject"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
)

// TestOneShapeForARawEvent holds store.Event's JSON to the one shape the
// visitor, the admin API and the CLI answer with: every field has a
// snake_case name of its own.
func TestOneShapeForARawEvent(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := map[string]string{}
	typ := reflect.TypeFor[store.Event]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !snake.MatchString(name) {
			t.Errorf("store.Event.%s: json name %q, want snake_case", f.Name, name)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("store.Event.%s and .%s: both named %q", f.Name, other, name)
		}
		seen[name] = f.Name
	}
	b, err := json.Marshal(store.Event{UTMCampaign: "spring", Consent: store.ConsentAnalytics, VisitorKey: 1 << 60})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"utm_campaign":"spring"`, `"visitor_key":"1152921504606846976"`,
		`"consented_categories":{"analytics":true,"marketing":false,"necessary":true,"personalization":false}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("got %s, want it to hold %s", b, want)
		}
	}
	var back store.Event
	if err := json.Unmarshal(b, &back); err != nil || back.Consent != store.ConsentAnalytics || back.VisitorKey != 1<<60 {
		t.Errorf("read back: %+v, %v", back, err)
	}
}

// TestAccessAndErase runs the service as the CLI does (no erasure loop)
// over a real store: access finds a subject's events, erasure removes
// them and says how many, access then finds none.
func TestAccessAndErase(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	site, err := st.AddSite(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	cid := uuid.New()
	now := time.Now().UTC().Truncate(time.Second)
	var events []store.Event
	for i := range 3 {
		events = append(events, store.Event{ID: uuid.New(), SiteID: site.ID, Type: store.Pageview, Time: now.Add(time.Duration(i) * time.Second),
			ReceivedAt: now, Host: "example.test", Path: "/", ConsentID: cid, UserID: "u-1", IP: "198.51.100.4"})
	}
	events[2].ConsentID, events[2].UserID = uuid.Nil, ""
	if err := st.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	flushed := 0
	s := subject.New(subject.Options{Store: st, Erasures: erasure.New(erasure.Options{Store: st}), Inline: true,
		Flush: func(context.Context) error { flushed++; return nil }})
	for _, tt := range []struct {
		name    string
		sub     store.Subject
		domain  string
		label   string
		erased  int64
		flushes int
	}{
		{"consent id", store.Subject{ConsentID: cid}, "", "consent:" + cid.String(), 2, 0},
		{"ip on a site", store.Subject{IP: "198.51.100.4", SiteID: site.ID}, site.Domain, "ip on example.test", 1, 1},
		{"user id, none left", store.Subject{UserID: "u-1"}, "", "user_id", 0, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			label := tt.sub.Label(tt.domain)
			if label != tt.label {
				t.Errorf("label: got %q, want %q", label, tt.label)
			}
			before, err := s.Access(ctx, tt.sub, label)
			if err != nil || int64(len(before.Events)) != tt.erased || before.ConsentID != tt.sub.ConsentID {
				t.Fatalf("access: got %d events of %s, %v; want %d", len(before.Events), before.ConsentID, err, tt.erased)
			}
			r, err := s.Erase(ctx, tt.sub, label, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := store.Receipt{Subject: tt.label, ConsentID: tt.sub.ConsentID, Erasure: store.ErasureDone, ErasedEvents: tt.erased, ErasedAt: r.ErasedAt, Scope: "raw events"}
			if diff := cmp.Diff(want, r); diff != "" || r.ErasedAt.Before(now) {
				t.Errorf("receipt (-want +got):\n%s erased at %s", diff, r.ErasedAt)
			}
			if flushed != tt.flushes {
				t.Errorf("queue written out %d times, want %d", flushed, tt.flushes)
			}
			after, err := s.Access(ctx, tt.sub, label)
			if err != nil || after.Events == nil || len(after.Events) != 0 {
				t.Errorf("access after erasure: %v, %v; want no events", after.Events, err)
			}
		})
	}
}
