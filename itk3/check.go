package itk3

import (
	"fmt"
	"strings"

	"github.com/gpcm/gpcm/fhir"
)

// handlingKeys are the six keys of the handling specification, in the
// order the extension lists them.
var handlingKeys = []string{"BusAckRequested", "InfAckRequested", "RecipientType", "MessageDefinition", "SenderReference", "LocalExtension"}

// HandlingRules says what a payload specification asks of the handling
// specification of the messages it defines. Presence and value types are
// checked for every message; the values only where a rule is set.
type HandlingRules struct {
	// InfAckRequested and BusAckRequested are the values the flags must
	// have (both true for a GP Connect message, both false for a response).
	InfAckRequested, BusAckRequested bool
	// MessageDefinitions lists the accepted MessageDefinition references;
	// empty accepts any.
	MessageDefinitions []string
	// LocalExtension is the required LocalExtension value; "" accepts any.
	LocalExtension string
	// SenderReferenceRequired rejects the default "None": the message must
	// identify the activity at the sender.
	SenderReferenceRequired bool
}

// HandlingIssue is one breach of the handling specification, with the ITK3
// code a receiver answers it with (ITK3 2.10.0: 10001 for the extension or
// a key missing and for LocalExtension, 10002 InfAckRequested, 10003
// BusAckRequested, 10004 MessageDefinition, 10007 SenderReference, 10010
// RecipientType).
type HandlingIssue struct {
	// Key is the handling key at fault; "" means the extension itself.
	Key string
	// Missing is true when the extension or key is absent or carries no
	// value of the right type; false when a value is present but not the
	// one the rules ask for.
	Missing bool
	Code    ResponseCode
	Message string
}

// keyCode is the response code for a fault in each handling key.
var keyCode = map[string]ResponseCode{
	"BusAckRequested":   CodeBusAckValueError,
	"InfAckRequested":   CodeInfAckValueError,
	"RecipientType":     CodeRecipientTypeError,
	"MessageDefinition": CodeMessageDefinitionError,
	"SenderReference":   CodeSenderReferenceError,
	"LocalExtension":    CodeHandlingSpecError,
}

// CheckHandling checks the MessageHandling extension of a MessageHeader:
// present exactly once, each of the six keys present once with a value of
// the type ITK3 gives it, and the values rules asks for. Extra (local) keys
// are allowed. Messages name keys and the expected values, never the values
// found beyond the flags and codes.
func CheckHandling(h *fhir.MessageHeader, rules HandlingRules) []HandlingIssue {
	var out []HandlingIssue
	var exts []*fhir.Extension
	if h != nil {
		for _, e := range h.Extension {
			if e != nil && e.URL == MessageHandlingURL {
				exts = append(exts, e)
			}
		}
	}
	switch len(exts) {
	case 0:
		return []HandlingIssue{{Missing: true, Code: CodeHandlingSpecError,
			Message: "the MessageHeader has no handling specification (extension " + MessageHandlingURL + ")"}}
	case 1:
	default:
		out = append(out, HandlingIssue{Code: CodeHandlingSpecError, Message: fmt.Sprintf("the MessageHeader carries the handling specification %d times; it must carry it once", len(exts))})
	}
	keys := map[string][]*fhir.Extension{}
	for _, k := range exts[0].Extension {
		if k != nil {
			keys[k.URL] = append(keys[k.URL], k)
		}
	}
	issue := func(key string, missing bool, format string, a ...any) {
		out = append(out, HandlingIssue{Key: key, Missing: missing, Code: keyCode[key], Message: fmt.Sprintf(format, a...)})
	}
	for _, key := range handlingKeys {
		ks := keys[key]
		if len(ks) == 0 {
			issue(key, true, "the handling key %s is missing", key)
			continue
		}
		if len(ks) > 1 {
			issue(key, false, "the handling key %s appears %d times; it must appear once", key, len(ks))
		}
		checkKey(ks[0], rules, issue)
	}
	return out
}

func checkKey(k *fhir.Extension, rules HandlingRules, issue func(key string, missing bool, format string, a ...any)) {
	key := k.URL
	switch key {
	case "BusAckRequested", "InfAckRequested":
		want := rules.BusAckRequested
		if key == "InfAckRequested" {
			want = rules.InfAckRequested
		}
		b, ok := k.Value.(*fhir.Boolean)
		switch {
		case !ok || (b.Value != "true" && b.Value != "false"):
			issue(key, true, "%s must be a valueBoolean (%t here)", key, want)
		case b.Bool() != want:
			issue(key, false, "%s is %s; it must be %t", key, b.Value, want)
		}
	case "RecipientType":
		c, ok := k.Value.(*fhir.Coding)
		switch {
		case !ok || c.Code.String() == "":
			issue(key, true, "RecipientType must be a valueCoding from %s", RecipientTypeSystem)
		case c.System.String() != RecipientTypeSystem || (c.Code.String() != "FA" && c.Code.String() != "FI"):
			issue(key, false, "RecipientType must be FA (for action) or FI (for information) from %s", RecipientTypeSystem)
		}
	case "MessageDefinition":
		var ref string
		switch v := k.Value.(type) {
		case *fhir.Reference:
			ref = v.Reference.String()
		case *fhir.URI:
			ref = v.String()
		}
		switch {
		case ref == "":
			issue(key, true, "MessageDefinition must be a valueReference naming the message definition")
		case len(rules.MessageDefinitions) > 0 && !contains(rules.MessageDefinitions, ref):
			issue(key, false, "MessageDefinition is not %s", strings.Join(rules.MessageDefinitions, " or "))
		}
	case "SenderReference":
		s, ok := k.Value.(*fhir.String)
		switch {
		case !ok || s.Value == "":
			issue(key, true, "SenderReference must be a valueString (default None)")
		case len(s.Value) > 255:
			issue(key, false, "SenderReference is longer than 255 characters")
		case rules.SenderReferenceRequired && strings.EqualFold(s.Value, "None"):
			issue(key, false, "SenderReference is None; it must identify the activity at the sender")
		}
	case "LocalExtension":
		v := valueText(k.Value)
		switch {
		case v == "":
			issue(key, true, "LocalExtension must carry a value (default None)")
		case rules.LocalExtension != "" && v != rules.LocalExtension:
			issue(key, false, "LocalExtension is not %s", rules.LocalExtension)
		}
	}
}

// valueText is the lexical value of a primitive extension value.
func valueText(v fhir.ExtensionValue) string {
	if s, ok := v.(fmt.Stringer); ok && v != nil {
		return s.String()
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
