package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// codecV4 is the first byte of every record payload. A change to the
// encoding (a new store.Event field included) gets a new version, and the
// decoder keeps reading the old ones, so a spool written by the previous
// release replays after an upgrade. Version 1 had no Language, version 2
// no revenue, version 3 no scroll depth.
const (
	codecV1 = 1
	codecV2 = 2
	codecV3 = 3
	codecV4 = 4
)

// eventFields is how many fields of store.Event encodeEvent writes. A test
// compares it with the struct, so a field added to store.Event without a
// codec change fails the build's tests instead of being dropped by replays.
const eventFields = 48

var errShort = errors.New("record ends early")

// appendEvent appends the encoding of e to b: the version byte, then every
// field in declaration order but Language, which version 2 added last,
// the revenue amount and currency, which version 3 added after it, and
// the scroll depth, which version 4 added last.
// Strings are a uvarint length and the bytes; times are a varint of Unix
// seconds and a uvarint of nanoseconds (decoded in UTC); fixed-size ids are
// raw bytes.
func appendEvent(b []byte, e *store.Event) []byte {
	b = append(b, codecV4)
	b = append(b, e.ID[:]...)
	b = binary.AppendUvarint(b, uint64(e.SiteID))
	b = appendString(b, string(e.Type))
	b = appendTime(b, e.Time)
	b = appendTime(b, e.ReceivedAt)

	b = appendString(b, e.Host)
	b = appendString(b, e.Path)
	b = appendString(b, e.Query)

	b = appendString(b, e.Referrer)
	b = appendString(b, e.ReferrerHost)
	b = appendString(b, e.Source)

	b = appendString(b, e.UTMSource)
	b = appendString(b, e.UTMMedium)
	b = appendString(b, e.UTMCampaign)
	b = appendString(b, e.UTMTerm)
	b = appendString(b, e.UTMContent)
	b = appendString(b, e.ClickID)

	b = appendString(b, e.IP)
	b = appendString(b, e.IPTrunc)

	b = binary.LittleEndian.AppendUint64(b, e.VisitorKey)
	b = append(b, e.KeyVersion)
	b = binary.LittleEndian.AppendUint64(b, e.SessionID)
	b = appendString(b, e.UserID)

	b = append(b, e.ConsentID[:]...)
	b = append(b, byte(e.Consent))
	b = appendString(b, e.PolicyVersion)
	b = appendBool(b, e.GPC)

	b = appendString(b, e.Browser)
	b = appendString(b, e.BrowserVersion)
	b = appendString(b, e.OS)
	b = appendString(b, e.OSVersion)
	b = appendString(b, e.Device)
	b = binary.AppendUvarint(b, uint64(e.ScreenWidth))

	b = appendString(b, e.Country)
	b = appendString(b, e.Region)
	b = appendString(b, e.City)
	b = binary.AppendUvarint(b, uint64(e.ASN))
	b = appendString(b, e.ISP)

	b = appendString(b, e.Name)
	b = appendString(b, e.Target)
	b = binary.AppendUvarint(b, uint64(len(e.Props)))
	for _, p := range e.Props {
		b = appendString(b, p.Key)
		b = appendString(b, p.Value)
	}

	b = binary.AppendUvarint(b, uint64(e.EngagedMS))

	b = appendBool(b, e.Bot)
	b = appendString(b, e.BotReason)
	b = appendString(b, e.Language)
	b = binary.AppendUvarint(b, uint64(e.RevenueAmount))
	b = appendString(b, e.RevenueCurrency)
	b = binary.AppendUvarint(b, uint64(e.ScrollDepth))
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// decodeEvent fills e from a payload made by appendEvent. The strings of e
// share one allocation: the payload copied once.
func decodeEvent(payload []byte, e *store.Event) error {
	if len(payload) == 0 {
		return errShort
	}
	version := payload[0]
	if version < codecV1 || version > codecV4 {
		return fmt.Errorf("unknown event encoding version %d (written by a newer footfall?)", payload[0])
	}
	d := decoder{s: string(payload[1:])}
	*e = store.Event{}
	d.uuid(&e.ID)
	e.SiteID = uint32(d.uvarint(1<<32 - 1))
	e.Type = store.EventType(d.string())
	e.Time = d.time()
	e.ReceivedAt = d.time()

	e.Host = d.string()
	e.Path = d.string()
	e.Query = d.string()

	e.Referrer = d.string()
	e.ReferrerHost = d.string()
	e.Source = d.string()

	e.UTMSource = d.string()
	e.UTMMedium = d.string()
	e.UTMCampaign = d.string()
	e.UTMTerm = d.string()
	e.UTMContent = d.string()
	e.ClickID = d.string()

	e.IP = d.string()
	e.IPTrunc = d.string()

	e.VisitorKey = d.uint64()
	e.KeyVersion = d.byte()
	e.SessionID = d.uint64()
	e.UserID = d.string()

	d.uuid(&e.ConsentID)
	e.Consent = store.Categories(d.byte())
	e.PolicyVersion = d.string()
	e.GPC = d.bool()

	e.Browser = d.string()
	e.BrowserVersion = d.string()
	e.OS = d.string()
	e.OSVersion = d.string()
	e.Device = d.string()
	e.ScreenWidth = uint16(d.uvarint(1<<16 - 1))

	e.Country = d.string()
	e.Region = d.string()
	e.City = d.string()
	e.ASN = uint32(d.uvarint(1<<32 - 1))
	e.ISP = d.string()

	e.Name = d.string()
	e.Target = d.string()
	// Every prop takes at least two bytes: a larger count is damage, not
	// an allocation to make.
	if n := d.uvarint(uint64(len(d.s)) / 2); n > 0 {
		e.Props = make([]store.Prop, n)
		for i := range e.Props {
			e.Props[i] = store.Prop{Key: d.string(), Value: d.string()}
		}
	}

	e.EngagedMS = uint32(d.uvarint(1<<32 - 1))

	e.Bot = d.bool()
	e.BotReason = d.string()
	if version >= codecV2 {
		e.Language = d.string()
	}
	if version >= codecV3 {
		e.RevenueAmount = store.Amount(d.uvarint(store.MaxAmount))
		e.RevenueCurrency = d.string()
	}
	if version >= codecV4 {
		e.ScrollDepth = uint8(d.uvarint(1<<8 - 1))
	}
	if d.err != nil {
		return d.err
	}
	if len(d.s) != 0 {
		return fmt.Errorf("%d bytes after the last field", len(d.s))
	}
	return nil
}

// decoder reads fields off the front of s; the first error sticks and every
// later read returns a zero value.
type decoder struct {
	s   string
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.s = ""
}

func (d *decoder) uvarint(max uint64) uint64 {
	var v uint64
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.s = d.s[i+1:]
			if v > max {
				d.fail(fmt.Errorf("value %d out of range", v))
				return 0
			}
			return v
		}
	}
	d.fail(errShort)
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint(1<<64 - 1)
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *decoder) string() string {
	n := d.uvarint(1<<64 - 1)
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)) {
		d.fail(errShort)
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

func (d *decoder) byte() byte {
	if len(d.s) < 1 {
		d.fail(errShort)
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

func (d *decoder) bool() bool {
	switch c := d.byte(); c {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail(fmt.Errorf("bool byte %d", c))
		return false
	}
}

func (d *decoder) uint64() uint64 {
	if len(d.s) < 8 {
		d.fail(errShort)
		return 0
	}
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(d.s[i])
	}
	d.s = d.s[8:]
	return v
}

func (d *decoder) uuid(u *uuid.UUID) {
	if len(d.s) < len(u) {
		d.fail(errShort)
		return
	}
	copy(u[:], d.s)
	d.s = d.s[len(u):]
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint(999_999_999)
	if d.err != nil {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
