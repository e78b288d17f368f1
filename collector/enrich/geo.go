package enrich

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/oschwald/geoip2-golang/v2"

	"github.com/footfall/footfall/store"
)

// Geo precisions: how much of a City database answer is recorded.
const (
	PrecisionCountry = "country"
	PrecisionRegion  = "region"
	PrecisionCity    = "city"
)

// geo reads MaxMind-format databases. Every reader is optional.
type geo struct {
	city, asn, isp *geoip2.Reader
	precision      string
}

func openGeo(cityPath, asnPath, ispPath, precision string) (*geo, error) {
	g := &geo{precision: precision}
	var errs []error
	open := func(kind, path string, check func(*geoip2.Reader) error) *geoip2.Reader {
		if path == "" {
			return nil
		}
		r, err := geoip2.Open(path)
		if err == nil {
			err = check(r)
			if err != nil {
				r.Close()
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("open %s database %s: %w", kind, path, err))
			return nil
		}
		return r
	}
	// A reader refuses methods its database type does not support; asking
	// for the unspecified address shows which kind of file was given.
	probe := netip.IPv6Unspecified()
	g.city = open("city", cityPath, func(r *geoip2.Reader) error { _, err := r.City(probe); return notFoundOK(err) })
	g.asn = open("ASN", asnPath, func(r *geoip2.Reader) error { _, err := r.ASN(probe); return notFoundOK(err) })
	g.isp = open("ISP", ispPath, func(r *geoip2.Reader) error { _, err := r.ISP(probe); return notFoundOK(err) })
	if err := errors.Join(errs...); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// notFoundOK keeps only the errors that say the database is of the wrong
// kind; a probe may well fail to decode for other reasons in an odd but
// valid file, which the first real lookup will show.
func notFoundOK(err error) error {
	var wrong geoip2.InvalidMethodError
	if errors.As(err, &wrong) {
		return err
	}
	return nil
}

// lookup fills the geo and network fields of ev for a. It reports whether
// a lookup failed; the error itself may quote the address, so it is
// dropped here and never logged.
func (g *geo) lookup(a netip.Addr, ev *store.Event) (failed bool) {
	if g == nil || !a.IsValid() {
		return false
	}
	if usable(g.city, a) {
		rec, err := g.city.City(a)
		if err != nil {
			failed = true
		} else {
			ev.Country = rec.Country.ISOCode
			if g.precision != PrecisionCountry && len(rec.Subdivisions) > 0 {
				ev.Region = rec.Subdivisions[0].ISOCode
			}
			if g.precision == PrecisionCity {
				ev.City = rec.City.Names.English
			}
		}
	}
	if usable(g.asn, a) {
		rec, err := g.asn.ASN(a)
		if err != nil {
			failed = true
		} else {
			ev.ASN = uint32(rec.AutonomousSystemNumber)
			ev.ISP = rec.AutonomousSystemOrganization
		}
	}
	if usable(g.isp, a) {
		rec, err := g.isp.ISP(a)
		if err != nil {
			failed = true
		} else {
			if rec.ISP != "" {
				ev.ISP = rec.ISP
			} else if ev.ISP == "" {
				ev.ISP = rec.AutonomousSystemOrganization
			}
			if ev.ASN == 0 {
				ev.ASN = uint32(rec.AutonomousSystemNumber)
			}
		}
	}
	return failed
}

// usable reports whether r is open and can hold a: an IPv4-only database
// has no IPv6 addresses (and its error for one would quote the address).
func usable(r *geoip2.Reader, a netip.Addr) bool {
	return r != nil && (a.Is4() || r.Metadata().IPVersion != 4)
}

// Close releases the databases.
func (g *geo) Close() error {
	if g == nil {
		return nil
	}
	var errs []error
	for _, r := range []*geoip2.Reader{g.city, g.asn, g.isp} {
		if r != nil {
			errs = append(errs, r.Close())
		}
	}
	return errors.Join(errs...)
}
