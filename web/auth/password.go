package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/argon2"
)

// Passwords are stored as argon2id hashes with OWASP's recommended minimum
// cost (19 MiB, two passes, one lane): about 30–60 ms on one core. The
// encoding carries the parameters, so raising them later only affects new
// hashes:
//
//	argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard base64.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Password length limits. The upper one keeps a login request from making
// the server hash megabytes.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 1024
)

// HashPassword returns the encoded argon2id hash of password under a new
// random salt.
func HashPassword(password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return encodeHash(argonParams{memory: argonMemory, time: argonTime, threads: argonThreads}, salt, key), nil
}

func checkPassword(password string) error {
	switch {
	case len(password) < MinPasswordLen:
		return fmt.Errorf("password: want at least %d characters", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("password: want at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// MinPasswordScore is the least zxcvbn score (0–4) a new password needs:
// 3 is "safely unguessable", at least 10^8 guesses, zxcvbn's own advice
// for a password under a slow hash.
const MinPasswordScore = 3

// strengthPrefix bounds how much of a password the estimator reads: its
// cost grows faster than linearly, and a prefix this long that is strong
// makes the whole strong.
const strengthPrefix = 64

// CheckPasswordStrength refuses a password that is too short or long, or
// that zxcvbn (the estimator of Dropbox, ported to Go) judges guessable:
// common passwords, keyboard walks, repeats, dates, dictionary words with
// predictable changes, and words of inputs (the user's e-mail address).
func CheckPasswordStrength(password string, inputs ...string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	sample := password
	if r := []rune(sample); len(r) > strengthPrefix {
		sample = string(r[:strengthPrefix])
	}
	words := []string{"footfall"}
	for _, in := range inputs {
		words = append(words, in)
		words = append(words, strings.FieldsFunc(in, func(r rune) bool { return r == '@' || r == '.' || r == '-' || r == '_' || r == '+' })...)
	}
	if res := zxcvbn.PasswordStrength(sample, words); res.Score < MinPasswordScore {
		return fmt.Errorf("password: too easy to guess (about %.0e guesses; want at least 1e8): use a passphrase of several unrelated words, or let footfall generate one", res.Guesses)
	}
	return nil
}

// VerifyPassword reports whether password matches an encoded hash. It
// returns an error only for a hash it cannot read; a wrong password is
// (false, nil).
func VerifyPassword(encoded, password string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// GeneratePassword returns a random password of 26 characters from A–Z and
// 2–7 (128 bits), for a user added without one.
func GeneratePassword() string {
	return rand.Text()
}

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
}

var b64 = base64.RawStdEncoding

func encodeHash(p argonParams, salt, key []byte) string {
	return fmt.Sprintf("argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("not an argon2id hash this version of Footfall reads")

// decodeHash parses an encoded hash and bounds its parameters, so that a
// tampered row cannot make a login use gigabytes.
func decodeHash(encoded string) (argonParams, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 || parts[0] != "argon2id" || parts[1] != "v="+strconv.Itoa(argon2.Version) {
		return argonParams{}, nil, nil, errBadHash
	}
	var p argonParams
	for _, kv := range strings.Split(parts[2], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return argonParams{}, nil, nil, errBadHash
		}
		switch k {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > 255 {
				return argonParams{}, nil, nil, errBadHash
			}
			p.threads = uint8(n)
		default:
			return argonParams{}, nil, nil, errBadHash
		}
	}
	if p.time < 1 || p.time > 16 || p.threads < 1 || p.threads > 16 || p.memory < 8*uint32(p.threads) || p.memory > 256*1024 {
		return argonParams{}, nil, nil, fmt.Errorf("%w: parameters m=%d,t=%d,p=%d out of bounds", errBadHash, p.memory, p.time, p.threads)
	}
	salt, err := b64.DecodeString(parts[3])
	if err != nil || len(salt) < 8 {
		return argonParams{}, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[4])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return argonParams{}, nil, nil, errBadHash
	}
	return p, salt, key, nil
}
