package collector

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// fastBeacons decodes the beacon bodies the snippet actually sends — one
// object or an array of objects with the known fields, plain strings,
// integers, and a flat props object — without reflection, in a fraction of
// encoding/json's time and allocations. Anything else (an escape sequence,
// an unknown or repeated field, a null, a nested prop, invalid UTF-8,
// malformed JSON…) returns ok false, and decodeBeacons falls back to
// encoding/json: that one path defines the behaviour and the error
// messages. What this decoder accepts it decodes exactly as encoding/json
// would (FuzzFastBeacons checks it).
func fastBeacons(body []byte) (beacons []Beacon, ok bool) {
	d := fastDecoder{b: body}
	d.space()
	if d.peek() == '[' {
		d.i++
		d.space()
		for {
			var b Beacon
			if !d.object(&b) {
				return nil, false
			}
			beacons = append(beacons, b)
			d.space()
			if d.peek() == ',' && len(beacons) < MaxBatch+1 {
				d.i++
				d.space()
				continue
			}
			if d.peek() != ']' {
				return nil, false
			}
			d.i++
			break
		}
	} else {
		beacons = make([]Beacon, 1)
		if !d.object(&beacons[0]) {
			return nil, false
		}
	}
	d.space()
	return beacons, d.i == len(d.b)
}

type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// The fields fastBeacons knows, as bits of a "seen" set.
const (
	fSite = 1 << iota
	fType
	fURL
	fReferrer
	fToken
	fName
	fTarget
	fProps
	fSID
	fUserID
	fW
	fMS
	fLang
	fScroll
)

// object decodes one beacon object.
func (d *fastDecoder) object(b *Beacon) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	d.space()
	if d.peek() == '}' {
		d.i++
		return true
	}
	var seen int
	for {
		key, ok := d.rawString()
		if !ok {
			return false
		}
		d.space()
		if d.peek() != ':' {
			return false
		}
		d.i++
		d.space()
		var bit int
		var dst *string
		switch string(key) { // no allocation: the compiler compares in place
		case "site":
			bit, dst = fSite, &b.Site
		case "type":
			bit, dst = fType, &b.Type
		case "url":
			bit, dst = fURL, &b.URL
		case "referrer":
			bit, dst = fReferrer, &b.Referrer
		case "token":
			bit, dst = fToken, &b.Token
		case "name":
			bit, dst = fName, &b.Name
		case "target":
			bit, dst = fTarget, &b.Target
		case "sid":
			bit, dst = fSID, &b.SID
		case "user_id":
			bit, dst = fUserID, &b.UserID
		case "lang":
			bit, dst = fLang, &b.Lang
		case "props":
			bit = fProps
		case "w":
			bit = fW
		case "ms":
			bit = fMS
		case "scroll":
			bit = fScroll
		default:
			return false // unknown, or another spelling: encoding/json decides
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch {
		case dst != nil:
			s, ok := d.string()
			if !ok {
				return false
			}
			*dst = s
		case bit == fW:
			n, ok := d.integer(strconv.IntSize)
			if !ok {
				return false
			}
			b.W = int(n)
		case bit == fScroll:
			n, ok := d.integer(strconv.IntSize)
			if !ok {
				return false
			}
			b.Scroll = int(n)
		case bit == fMS:
			n, ok := d.integer(64)
			if !ok {
				return false
			}
			b.MS = n
		case bit == fProps:
			if !d.props(b) {
				return false
			}
		}
		d.space()
		switch d.peek() {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// rawString returns the bytes of a string without escapes, or ok false.
func (d *fastDecoder) rawString() ([]byte, bool) {
	s, escaped, ok := d.token()
	if !ok || escaped {
		return nil, false
	}
	return s, true
}

// token scans a string and returns its bytes between the quotes and
// whether it holds escapes. Strings with control characters or invalid
// UTF-8 (encoding/json substitutes U+FFFD) are not ok.
func (d *fastDecoder) token() (s []byte, escaped, ok bool) {
	if d.peek() != '"' {
		return nil, false, false
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false, false
			}
			d.i = j + 1
			return s, escaped, true
		case c == '\\':
			escaped = true
			j++ // the escaped byte; \uXXXX's digits are scanned as plain bytes
		case c < 0x20:
			return nil, false, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false, false
}

func (d *fastDecoder) string() (string, bool) {
	start := d.i
	s, escaped, ok := d.token()
	if !ok {
		return "", false
	}
	if escaped {
		// Rare in beacons (JSON.stringify escapes only quotes, backslashes
		// and control characters): encoding/json unquotes this one string,
		// so escapes mean exactly what they mean there.
		var out string
		if json.Unmarshal(d.b[start:d.i], &out) != nil {
			return "", false
		}
		return out, true
	}
	return string(s), true
}

// integer reads a JSON number that is an integer fitting bits bits.
func (d *fastDecoder) integer(bits int) (int64, bool) {
	start := d.i
	j := d.i
	if j < len(d.b) && d.b[j] == '-' {
		j++
	}
	digits := j
	for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
		j++
	}
	if j == digits || d.b[digits] == '0' && j-digits > 1 {
		return 0, false // no digits, or a leading zero
	}
	if j < len(d.b) && (d.b[j] == '.' || d.b[j] == 'e' || d.b[j] == 'E') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(d.b[start:j]), 10, bits)
	if err != nil {
		return 0, false
	}
	d.i = j
	return n, true
}

// number reads any JSON number as encoding/json does into an interface:
// a float64.
func (d *fastDecoder) number() (float64, bool) {
	start := d.i
	j := d.i
	if j < len(d.b) && d.b[j] == '-' {
		j++
	}
	digits := j
	for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
		j++
	}
	if j == digits || d.b[digits] == '0' && j-digits > 1 {
		return 0, false
	}
	if j < len(d.b) && d.b[j] == '.' {
		j++
		frac := j
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
		if j == frac {
			return 0, false
		}
	}
	if j < len(d.b) && (d.b[j] == 'e' || d.b[j] == 'E') {
		j++
		if j < len(d.b) && (d.b[j] == '+' || d.b[j] == '-') {
			j++
		}
		exp := j
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
		if j == exp {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(d.b[start:j]), 64)
	if err != nil {
		return 0, false
	}
	d.i = j
	return f, true
}

// props reads a flat object of strings, numbers, booleans and nulls.
func (d *fastDecoder) props(b *Beacon) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	b.Props = map[string]any{}
	d.space()
	if d.peek() == '}' {
		d.i++
		return true
	}
	for {
		key, ok := d.string()
		if !ok {
			return false
		}
		d.space()
		if d.peek() != ':' {
			return false
		}
		d.i++
		d.space()
		var v any
		switch c := d.peek(); {
		case c == '"':
			s, ok := d.string()
			if !ok {
				return false
			}
			v = s
		case c == '-' || c >= '0' && c <= '9':
			f, ok := d.number()
			if !ok {
				return false
			}
			v = f
		case d.literal("true"):
			v = true
		case d.literal("false"):
			v = false
		case d.literal("null"):
			v = nil
		default:
			return false // nested: encoding/json decodes it, validate refuses it
		}
		b.Props[key] = v
		d.space()
		switch d.peek() {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// literal consumes word if it comes next, followed by a delimiter.
func (d *fastDecoder) literal(word string) bool {
	end := d.i + len(word)
	if end > len(d.b) || string(d.b[d.i:end]) != word {
		return false
	}
	if end < len(d.b) {
		switch d.b[end] {
		case ' ', '\t', '\n', '\r', ',', '}':
		default:
			return false
		}
	}
	d.i = end
	return true
}
