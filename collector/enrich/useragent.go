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
	BotUAChurn    = "ua_churn"    // a new user agent beyond its client's parse budget (Options.UAParsesPerMinute)
)

// maxUALen is how much of a User-Agent is parsed and cached; the rest is
// ignored, which also bounds the cost of a cache miss.
const maxUALen = 512

// Device types, as stored in Event.Device.
const (
	DeviceDesktop = "desktop"
	DeviceMobile  = "mobile"
	DeviceTablet  = "tablet"
	DeviceTV      = "tv" // smart TVs, TV sticks and set-top boxes
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

// notBot is the bots.txt reason of a person's app whose user agent
// crawlerdetect would call a crawler (Microsoft Office, Reeder): it skips
// the crawler checks. It is never stored.
const notBot = "human"

type botRule struct {
	reason string
	needle string // lower case
	whole  bool   // needle is the whole UA, not a substring
	prefix bool   // needle starts the UA
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
		case BotHeadless, BotAICrawler, BotHTTPClient, BotCrawler, notBot:
		default:
			return fmt.Errorf("bots.txt:%d: unknown reason %q", n, reason)
		}
		r := botRule{reason: reason, needle: needle}
		switch needle[0] {
		case '=':
			r.needle, r.whole = needle[1:], true
		case '^':
			r.needle, r.prefix = needle[1:], true
		}
		if r.needle == "" {
			return fmt.Errorf("bots.txt:%d: want reason and substring", n)
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
		switch reason := botReason(lower); reason {
		case notBot:
		case "":
			// crawlerdetect's one large regular expression costs some
			// 300 µs on a whole UA; the mainstream browser's shape
			// answers for most traffic at once, or leaves it a short
			// tail to read.
			text := ua
			if tail, ok := browserTail(ua); ok {
				text = tail
			}
			if text != "" && p.isCrawler(text) {
				return uaInfo{botReason: BotCrawler}
			}
		default:
			return uaInfo{botReason: reason}
		}
	}
	a := p.ua.Parse(ua)
	info := uaInfo{
		browser:        browserName(a.Browser()),
		browserVersion: a.BrowserVersionMajor(),
		os:             osName(a.OS()),
		device:         deviceType(a.Device(), a.OS(), ua),
	}
	if name, version, ok := knownFamily(ua); ok {
		info.browser, info.browserVersion = name, version
	}
	if info.browser == "" {
		info.browserVersion = ""
	}
	info.osVersion = osVersion(a.OS(), ua)
	return info
}

// plainProducts are the product tokens after the platform comment of the
// mainstream browsers' user agents.
var plainProducts = map[string]bool{
	"AppleWebKit": true, "Version": true, "Chrome": true, "Safari": true, "Mobile": true,
	"Firefox": true, "Gecko": true, "Edg": true, "EdgA": true, "EdgiOS": true, "CriOS": true,
	"FxiOS": true, "OPR": true, "YaBrowser": true, "SamsungBrowser": true, "Vivaldi": true,
	"UCBrowser": true, "U3": true, "HuaweiBrowser": true, "HeyTapBrowser": true, "MiuiBrowser": true,
}

// platformItems are the items of a mainstream browser's platform comment
// (by prefix); anything else sends a UA the slow way, through crawlerdetect.
var platformItems = []string{
	"Windows NT ", "Win64", "x64", "WOW64", "rv:", "Macintosh", "Intel Mac OS X ", "X11",
	"Linux x86_64", "Linux i686", "Linux aarch64", "Ubuntu", "Fedora", "CrOS ", "iPhone",
	"iPad", "iPod touch", "CPU iPhone OS ", "CPU OS ", "Windows", "Win 9x", "ARM", "Touch",
	"Trident/", "Tablet", "Mobile", "Intel Mac OS X", "PPC Mac OS X", "x86_64", "Linux armv",
	"SunOS", "FreeBSD", "OpenBSD", "NetBSD",
}

// suspectWords in an Android model name send a UA the slow way too.
var suspectWords = []string{
	"bot", "crawl", "spider", "compatible", "http", "www", ".com", "+", "@", "headless",
	"agent", "monitor", "check", "fetch", "preview", "proxy", "test", "wpm", "screenshot",
}

// browserTail splits a user agent of a mainstream browser's shape,
// "Mozilla/5.0 (platform) AppleWebKit/… or Gecko/…", whose platform holds
// only the usual items (and, on Android, one model name), from what follows
// the product tokens of plainProducts and "(KHTML, like Gecko)": ok is false
// for any other shape; tail is "" for a plain browser, else the rest from
// the first unknown token on ("Instagram 280.0 (iPhone14,3; …)").
//
// A plain browser is no crawler, and the crawler signs of any other UA of
// this shape are in its tail: crawlerdetect, whose one large regular
// expression costs microseconds per byte, reads only the tail. The corpus
// test checks both against crawlerdetect on thousands of user agents.
func browserTail(ua string) (tail string, ok bool) {
	rest, ok := strings.CutPrefix(ua, "Mozilla/5.0 (")
	if !ok {
		return "", false
	}
	i := strings.IndexByte(rest, ')')
	if i < 0 {
		return "", false
	}
	comment, rest := rest[:i], rest[i+1:]
	if !plainPlatform(comment) {
		return "", false
	}
	engine := false
	for rest != "" {
		if rest[0] != ' ' {
			return "_" + rest, engine
		}
		// The tail keeps its space behind a stand-in for what came
		// before: crawlerdetect trims its input and has patterns such as
		// " YLT", and the tail does not start the user agent (^ patterns).
		tail := "_" + rest
		rest = rest[1:]
		if strings.HasPrefix(rest, "[FBAN/") || strings.HasPrefix(rest, "[FB_IAB/") {
			// Facebook's in-app browser: its closing block of app details.
			if strings.HasSuffix(rest, "]") && strings.Count(rest, "[") == 1 && !suspect(rest) {
				return "", engine
			}
			return tail, engine
		}
		if r, ok := strings.CutPrefix(rest, "(KHTML, like Gecko)"); ok {
			rest = r
			continue
		}
		if r, ok := strings.CutPrefix(rest, "(KHTML like Gecko)"); ok {
			rest = r
			continue
		}
		tok := rest
		if j := strings.IndexByte(rest, ' '); j >= 0 {
			tok = rest[:j]
		}
		if len(tok) > 2 && tok[0] == '(' && tok[len(tok)-1] == ')' && isDigits(tok[1:len(tok)-1]) {
			rest = rest[len(tok):]
			continue // iOS apps' web views: "(4299236624)"
		}
		name, version, hasVersion := strings.Cut(tok, "/")
		if !plainProducts[name] || hasVersion && !versionLike(version) || !hasVersion && name != "Mobile" {
			return tail, engine
		}
		rest = rest[len(tok):]
		engine = engine || name == "AppleWebKit" || name == "Gecko"
	}
	return "", engine
}

// plainBrowser reports whether ua is a mainstream browser's user agent
// with nothing after its usual product tokens (see browserTail).
func plainBrowser(ua string) bool {
	tail, ok := browserTail(ua)
	return ok && tail == ""
}

// plainPlatform reports whether a platform comment holds only the usual
// items; on Android ("Linux; [U; ]Android 13[; en-us]; MODEL[; wv]") one
// item, the model, may be anything without a suspect word.
func plainPlatform(comment string) bool {
	if strings.ContainsAny(comment, "()[]") {
		return false
	}
	android := strings.HasPrefix(comment, "Linux; ") || strings.HasPrefix(comment, "Android ")
	model := false
	for item := range strings.SplitSeq(comment, "; ") {
		switch {
		case hasPrefixAny(item, platformItems), item == "U", item == "I", isLocale(item):
		case android && (item == "Linux" || item == "K" || item == "wv" || strings.HasPrefix(item, "Android ")):
		case android && !model && !suspect(item):
			model = true
		default:
			return false
		}
	}
	return true
}

func hasPrefixAny(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// isLocale reports whether s looks like "en", "en-us" or "pt_BR".
func isLocale(s string) bool {
	return len(s) == 2 && isLetters(strings.ToLower(s)) ||
		len(s) == 5 && (s[2] == '-' || s[2] == '_') && isLetters(strings.ToLower(s[:2]+s[3:]))
}

func suspect(item string) bool {
	var buf [maxUALen]byte
	lower := buf[:0]
	for j := 0; j < len(item); j++ {
		c := item[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower = append(lower, c)
	}
	for _, w := range suspectWords {
		if strings.Contains(string(lower), w) {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// versionLike reports whether v is a non-empty run of letters, digits and
// dots: "537.36", "15E148".
func versionLike(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.') {
			return false
		}
	}
	return true
}

func botReason(lowerUA string) string {
	for _, r := range botRules() {
		switch {
		case r.whole:
			if lowerUA == r.needle {
				return r.reason
			}
		case r.prefix:
			if strings.HasPrefix(lowerUA, r.needle) {
				return r.reason
			}
		case strings.Contains(lowerUA, r.needle):
			return r.reason
		}
	}
	return ""
}

// families are the browsers and in-app browsers that the parser misses or
// reports as the engine they build on (Chrome, Safari), in order: the first
// token found names the family, and the version follows the token (or
// versionAfter when set). Learnt from the public corpora in testdata.
var families = []struct {
	token, name, versionAfter string
}{
	{"FBAV/", "Facebook", ""},
	{"FBAN/", "Facebook", "FBAV/"},
	{"FB_IAB/", "Facebook", "FBAV/"},
	{"[FBAN", "Facebook", "FBAV/"},
	{"Instagram ", "Instagram", ""},
	{"YaBrowser/", "Yandex Browser", ""},
	{"YaSearchBrowser/", "Yandex Browser", ""},
	{"YaApp_", "Yandex Browser", "YaApp_Android/"},
	{"UCBrowser/", "UC Browser", ""},
	{"UBrowser/", "UC Browser", ""},
	{"UCWEB", "UC Browser", "UCBrowser/"},
	{"MQQBrowser/", "QQ Browser", ""},
	{"QQBrowser/", "QQ Browser", ""},
	{"MiuiBrowser/", "Mi Browser", ""},
	{"Quark/", "Quark", ""},
	{"HuaweiBrowser/", "Huawei Browser", ""},
	{"SamsungBrowser/", "Samsung Internet", ""},
	{"Tizen ", "Samsung Internet", "SamsungBrowser/"}, // Samsung TVs name no version
	{"Opera Mini/", "Opera Mini", ""},
	{"OPiOS/", "Opera", ""},
	{"OPR/", "Opera", ""},
	{"OPT/", "Opera", ""},
	{"Opera/", "Opera", "Version/"},
	{"EdgiOS/", "Edge", ""},
	{"EdgA/", "Edge", ""},
	{"Edg/", "Edge", ""},
	{"Edge/", "Edge", ""},
	{"Vivaldi/", "Vivaldi", ""},
	{"Silk/", "Amazon Silk", ""},
	{"CriOS/", "Chrome", ""},
	{"FxiOS/", "Firefox", ""},
}

// knownFamily names the family of ua when a token of families, or Internet
// Explorer's, tells it.
func knownFamily(ua string) (name, version string, ok bool) {
	for _, f := range families {
		i := strings.Index(ua, f.token)
		if i < 0 {
			continue
		}
		v := ua[i+len(f.token):]
		if f.versionAfter != "" {
			v = after(ua, f.versionAfter)
			if v == "" && f.token == "Opera/" {
				v = ua[i+len(f.token):] // Opera/9.64 before Version/ existed
			}
		}
		return f.name, major(v), true
	}
	return ieFamily(ua)
}

// ieFamily reads Internet Explorer's version from its engine where the
// MSIE token lies: IE 11 sends "Trident/7.0; rv:11.0" without MSIE, and IE
// in compatibility view says "MSIE 7.0" beside its real Trident.
func ieFamily(ua string) (name, version string, ok bool) {
	t := after(ua, "Trident/")
	if t == "" {
		if v := after(ua, "MSIE "); v != "" {
			return "IE", major(v), true
		}
		return "", "", false
	}
	if v := after(ua, "rv:"); v != "" {
		return "IE", major(v), true
	}
	switch major(t) {
	case "7":
		return "IE", "11", true
	case "6":
		return "IE", "10", true
	case "5":
		return "IE", "9", true
	case "4":
		return "IE", "8", true
	}
	return "IE", major(after(ua, "MSIE ")), true
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

// deviceType maps the parser's device to desktop/mobile/tablet/tv or "".
// TV signs win over everything; an Android UA without the "Mobile" token
// is a tablet (Google's convention, which the parser does not follow), and
// so is one with it whose model is a known tablet line. When the parser
// has no answer, or calls a UA that passed the bot checks a bot (it does so
// for in-app browsers such as Instagram's), the platform token decides.
func deviceType(d agents.Device, o agents.OS, ua string) string {
	if d == agents.DeviceTV || hasAny(ua, tvSigns) {
		return DeviceTV
	}
	android := o == agents.OSAndroid || strings.Contains(ua, "Android")
	if android && (d == agents.DeviceMobile || d == agents.DeviceTablet || d == "" || d == agents.DeviceBot) {
		if !strings.Contains(ua, "Mobile") || hasAny(platform(ua), tabletModels) {
			return DeviceTablet
		}
		return DeviceMobile
	}
	switch d {
	case agents.DeviceDesktop:
		return DeviceDesktop
	case agents.DeviceTablet:
		return DeviceTablet
	case agents.DeviceMobile:
		return DeviceMobile
	}
	switch {
	case strings.Contains(ua, "iPad") || strings.Contains(ua, "Tablet"):
		return DeviceTablet
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPod"):
		return DeviceMobile
	case strings.Contains(ua, "Windows NT") || strings.Contains(ua, "Macintosh") ||
		strings.Contains(ua, "X11") || strings.Contains(ua, "CrOS"):
		return DeviceDesktop
	}
	return ""
}

// tvSigns are tokens only TVs, TV sticks and set-top boxes send.
var tvSigns = []string{
	"SMART-TV", "SmartTV", "Smart TV", "SMARTTV", "HbbTV", "Web0S", "NetCast", "BRAVIA",
	"Android TV", "AndroidTV", "GoogleTV", "CrKey", "Roku", "AppleTV", "Apple TV", "tvOS",
	"; AFT", "Tizen TV", "TV Safari", "Opera TV", "; TV ", "DTV)",
}

// tabletModels are model tokens of Android tablets that send "Mobile"
// anyway (or whose browsers do in desktop-like modes).
var tabletModels = []string{
	"SM-T", "SM-X", "SM-P", "GT-P", "Galaxy Tab", "Tablet", "Lenovo TB", "Lenovo Tab", "TB-",
	"MediaPad", "MatePad", "Nexus 7", "Nexus 9", "Nexus 10", "Pixel Tablet", "Xoom",
	"KFT", "KFA", "KFD", "KFG", "KFM", "KFS", "KFO", "KFR", "KFK", "KFQ", "Kindle Fire", "Redmi Pad", "Mi Pad",
}

// platform is the UA's first parenthesised comment: "(Linux; Android 13;
// SM-X700)"; "" if none.
func platform(ua string) string {
	i := strings.IndexByte(ua, '(')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(ua[i:], ')')
	if j < 0 {
		return ua[i:]
	}
	return ua[i : i+j]
}

func hasAny(s string, tokens []string) bool {
	for _, t := range tokens {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
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
