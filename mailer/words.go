package mailer

import (
	"strconv"
	"time"

	"magiclinks/lang"
)

// words are what the mail says outside its templates, per language: the
// units of the expiry and the app's name when EMAIL_FROM has none. All four
// languages put a number before a singular for one and a plural for more.
type words struct {
	minute, minutes, hour, hours, and string
	account                           string // AppName without a display name
}

var vocabulary = map[string]words{
	"en": {minute: "minute", minutes: "minutes", hour: "hour", hours: "hours", and: "and", account: "your account"},
	"de": {minute: "Minute", minutes: "Minuten", hour: "Stunde", hours: "Stunden", and: "und", account: "Ihr Konto"},
	"fr": {minute: "minute", minutes: "minutes", hour: "heure", hours: "heures", and: "et", account: "votre compte"},
	"es": {minute: "minuto", minutes: "minutos", hour: "hora", hours: "horas", and: "y", account: "su cuenta"},
}

func vocab(l string) words {
	if w, ok := vocabulary[l]; ok {
		return w
	}
	return vocabulary[lang.Default]
}

func defaultAppName(l string) string { return vocab(l).account }

// Expiry says a duration the way a person of language l would: "15 minutes",
// "1 Stunde", "1 heure et 30 minutes", "2 horas". Below a minute it rounds up
// to one minute. An unknown language gets English.
func Expiry(l string, d time.Duration) string {
	w := vocab(l)
	mins := int((d + time.Minute - 1) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	h, m := mins/60, mins%60
	unit := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	switch {
	case h == 0:
		return unit(m, w.minute, w.minutes)
	case m == 0:
		return unit(h, w.hour, w.hours)
	}
	return unit(h, w.hour, w.hours) + " " + w.and + " " + unit(m, w.minute, w.minutes)
}

// Words is Expiry in English.
func Words(d time.Duration) string { return Expiry(lang.Default, d) }
