package enrich

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	useragent "github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
	"github.com/x-way/crawlerdetect"
)

// Bot reasons, as stored in Event.BotReason.
const (
	BotCrawler    = "crawler"     // a search or other crawler (crawlerdetect)
	BotAICrawler  = "ai_crawler"  // an AI crawler or assistant fetcher (bots.txt)
	BotHeadless   = "headless"    // a headless browser or automation framework (bots.txt)
	BotHTTPClient = "http_client" // a programmatic HTTP client (bots.txt)
	BotEmptyUA    = "empty_ua"    // no User-Agent at all
	BotIPRange    = "ip_range"    // the client address is in Options.BotRanges
)

// maxUALen is how much of a User-Agent is parsed and cached; the rest is
// ignored, which also bounds the cost of a cache miss.
const maxUALen = 512

// Device types, as stored in Event.Device.
const (
	DeviceDesktop = "desktop"
	DeviceMobile  = "mobile"
	DeviceTablet  = "tablet"
)

// uaInfo is what one User-Agent tells, cached by the UA string.
type uaInfo struct {
	browser, browserVersion string
	os, osVersion           string
	device                  string
	botReason               string // "" when the UA looks like a browser
}

//go:embed bots.txt
var botsFile string

type botRule struct {
	reason string
	needle string // lower case
	whole  bool   // needle is the whole UA, not a substring
}

var botRules = sync.OnceValue(func() []botRule {
	r, err := parseBotRules(botsFile)
	if err != nil {
		panic("enrich: embedded bots.txt: " + err.Error()) // caught by the package tests
	}
	return r
})

func parseBotRules(data string) ([]botRule, error) {
	var rules []botRule
	err := eachLine(data, func(n int, line string) error {
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			return fmt.Errorf("bots.txt:%d: want reason and substring", n)
		}
		reason, needle := line[:i], strings.ToLower(strings.TrimSpace(line[i:]))
		if needle == "" || needle == "=" {
			return fmt.Errorf("bots.txt:%d: want reason and substring", n)
		}
		switch reason {
		case BotHeadless, BotAICrawler, BotHTTPClient, BotCrawler:
		default:
			return fmt.Errorf("bots.txt:%d: unknown reason %q", n, reason)
		}
		r := botRule{reason: reason, needle: needle}
		if strings.HasPrefix(needle, "=") {
			r.needle, r.whole = needle[1:], true
		}
		rules = append(rules, r)
		return nil
	})
	return rules, err
}

// uaParser turns User-Agent strings into uaInfo. It holds no per-UA state;
// the Enricher caches its answers.
type uaParser struct {
	ua        *useragent.Parser
	isCrawler func(string) bool
	allow     []string // lower case substrings that exempt a UA from bot checks
}

func newUAParser(allow []string) *uaParser {
	p := &uaParser{ua: useragent.NewParser(), isCrawler: crawlerdetect.IsCrawler}
	for _, a := range allow {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			p.allow = append(p.allow, a)
		}
	}
	return p
}

// parse classifies ua, which is already cut to maxUALen.
func (p *uaParser) parse(ua string) uaInfo {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return uaInfo{botReason: BotEmptyUA}
	}
	lower := strings.ToLower(ua)
	allowed := false
	for _, a := range p.allow {
		if strings.Contains(lower, a) {
			allowed = true
			break
		}
	}
	if !allowed {
		if reason := botReason(lower); reason != "" {
			return uaInfo{botReason: reason}
		}
		if p.isCrawler(ua) {
			return uaInfo{botReason: BotCrawler}
		}
	}
	a := p.ua.Parse(ua)
	info := uaInfo{
		browser:        browserName(a.Browser()),
		browserVersion: a.BrowserVersionMajor(),
		os:             osName(a.OS()),
		device:         deviceType(a.Device(), a.OS(), ua),
	}
	if info.browser == "" {
		info.browserVersion = ""
	}
	info.osVersion = osVersion(a.OS(), ua)
	return info
}

func botReason(lowerUA string) string {
	for _, r := range botRules() {
		if r.whole {
			if lowerUA == r.needle {
				return r.reason
			}
			continue
		}
		if strings.Contains(lowerUA, r.needle) {
			return r.reason
		}
	}
	return ""
}

func browserName(b agents.Browser) string {
	switch b {
	case agents.BrowserSamsung:
		return "Samsung Internet"
	}
	return string(b)
}

func osName(o agents.OS) string {
	switch o {
	case agents.OSMacOS:
		return "macOS"
	}
	return string(o)
}

// deviceType maps the parser's device to desktop/mobile/tablet or "". An
// Android UA without the "Mobile" token is a tablet (Google's convention,
// which the parser does not follow). When the parser has no answer, or
// calls a UA that passed the bot checks a bot (it does so for in-app
// browsers such as Instagram's), the platform token decides.
func deviceType(d agents.Device, o agents.OS, ua string) string {
	switch d {
	case agents.DeviceDesktop:
		return DeviceDesktop
	case agents.DeviceTablet:
		return DeviceTablet
	case agents.DeviceMobile:
		if o == agents.OSAndroid && !strings.Contains(ua, "Mobile") {
			return DeviceTablet
		}
		return DeviceMobile
	case agents.DeviceTV:
		return ""
	}
	switch {
	case strings.Contains(ua, "iPad") || strings.Contains(ua, "Tablet"):
		return DeviceTablet
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPod"):
		return DeviceMobile
	case strings.Contains(ua, "Android"):
		if strings.Contains(ua, "Mobile") {
			return DeviceMobile
		}
		return DeviceTablet
	case strings.Contains(ua, "Windows NT") || strings.Contains(ua, "Macintosh") ||
		strings.Contains(ua, "X11") || strings.Contains(ua, "CrOS"):
		return DeviceDesktop
	}
	return ""
}

// osVersion returns the major version of the OS where the UA tells it
// truthfully. Browsers freeze some values, and a frozen value is reported
// as unknown: macOS "10_15_7"/"10.15" (every macOS since 11 sends it) and
// Chrome's reduced Android "Android 10; K" (every Android since 10).
// Windows NT versions become the Windows release ("6.1" is "7"); NT 10.0
// covers Windows 10 and 11 alike and is reported as "10".
func osVersion(o agents.OS, ua string) string {
	switch o {
	case agents.OSWindows:
		v := after(ua, "Windows NT ")
		switch {
		case strings.HasPrefix(v, "10."):
			return "10"
		case strings.HasPrefix(v, "6.3"), strings.HasPrefix(v, "6.2"):
			return "8"
		case strings.HasPrefix(v, "6.1"):
			return "7"
		case strings.HasPrefix(v, "6.0"):
			return "Vista"
		case strings.HasPrefix(v, "5.1"), strings.HasPrefix(v, "5.2"):
			return "XP"
		}
	case agents.OSMacOS:
		v := after(ua, "Mac OS X ")
		if strings.HasPrefix(v, "10_15") || strings.HasPrefix(v, "10.15") {
			return ""
		}
		return major(v)
	case agents.OSIOS:
		for _, marker := range []string{"iPhone OS ", "CPU OS "} {
			if v := after(ua, marker); v != "" {
				return major(v)
			}
		}
	case agents.OSAndroid:
		if strings.Contains(ua, "Android 10; K)") {
			return ""
		}
		return major(after(ua, "Android "))
	}
	return ""
}

// after returns what follows the first marker in s, or "".
func after(s, marker string) string {
	_, v, ok := strings.Cut(s, marker)
	if !ok {
		return ""
	}
	return v
}

// major returns the leading digits of a version: "17" of "17_4 like", "".
func major(v string) string {
	i := 0
	for i < len(v) && i < 4 && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	return v[:i]
}
