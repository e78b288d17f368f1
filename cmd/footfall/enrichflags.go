package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/footfall/footfall/collector/enrich"
)

// enrichFlags are serve's settings for what a visit becomes before storage.
type enrichFlags struct {
	trustedProxies string
	botRanges      string
	allowUA        string
	cityDB         string
	asnDB          string
	ispDB          string
	geoPrecision   string
}

func (f *enrichFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.trustedProxies, "trusted-proxies", "", "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For/Forwarded/X-Real-IP are believed (default: none; the peer is the client)")
	fs.StringVar(&f.botRanges, "bot-ranges", "", "comma-separated `CIDRs` whose events are flagged as bots (monitoring, load tests)")
	fs.StringVar(&f.allowUA, "allow-ua", "", "comma-separated user-agent `substrings` exempt from bot detection (e.g. a marker of your own browser tests)")
	fs.StringVar(&f.cityDB, "geoip-city", "", "`path` of a MaxMind-format City database (country, region, city); none: no geo fields")
	fs.StringVar(&f.asnDB, "geoip-asn", "", "`path` of a MaxMind-format ASN database (ASN and ISP/organisation name)")
	fs.StringVar(&f.ispDB, "geoip-isp", "", "`path` of a MaxMind-format ISP database (its ISP name wins over the ASN organisation)")
	fs.StringVar(&f.geoPrecision, "geo-precision", "city", "how much location to record: country, region or city")
}

func (f *enrichFlags) check() []error {
	var errs []error
	for _, p := range []struct{ name, value string }{{"-trusted-proxies", f.trustedProxies}, {"-bot-ranges", f.botRanges}} {
		if _, err := parsePrefixes(p.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	switch f.geoPrecision {
	case enrich.PrecisionCountry, enrich.PrecisionRegion, enrich.PrecisionCity:
	default:
		errs = append(errs, fmt.Errorf("-geo-precision: want country, region or city, got %q", f.geoPrecision))
	}
	return errs
}

// options builds the enricher's options; check has validated the flags.
func (f *enrichFlags) options(salts enrich.SaltStore, log *slog.Logger) enrich.Options {
	proxies, _ := parsePrefixes(f.trustedProxies)
	bots, _ := parsePrefixes(f.botRanges)
	return enrich.Options{
		TrustedProxies: proxies, BotRanges: bots, AllowUA: splitList(f.allowUA),
		CityDB: f.cityDB, ASNDB: f.asnDB, ISPDB: f.ispDB, GeoPrecision: f.geoPrecision,
		Salts: salts, Log: log,
	}
}

// parsePrefixes reads a comma-separated list of CIDRs or single addresses.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range splitList(s) {
		if !strings.Contains(item, "/") {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", item)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR", item)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
