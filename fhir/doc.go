// Package fhir reads and writes FHIR STU3 resources in XML and JSON without
// losing anything: a typed Go model of every STU3 resource and data type,
// and streaming codecs that are lenient on read and canonical on write.
//
// # Model
//
// Every STU3 resource is a struct (*Patient, *Bundle, ...) implementing
// [Resource]; Bundle.entry.resource and every contained list hold any
// Resource. Data types and backbone elements are structs named after their
// path (HumanName, BundleEntry, MessageHeaderSource); a backbone type shared
// by two elements through a content reference keeps the name of the
// element that defines it (Bundle.entry.link is a *BundleLink). Resource.id
// is an *ID primitive; the id of every other element is a plain string (an
// XML attribute). Each primitive type
// (String, Code, DateTime, Decimal, Boolean, ...) is a struct with ID,
// Extension and Value, where Value is the exact lexical form that was read
// ("1.50" stays "1.50", offsets of dateTimes are kept); New<Type>
// constructors, String() and typed accessors (Bool, Int, Float64, Time)
// make them easy to use. A choice element value[x] is an interface field
// whose concrete type names the alternative (*Quantity, *String, ...); the
// compiler only accepts the alternatives STU3 allows. The narrative
// (Narrative.Div) is a string of XHTML in one canonical form (xhtml.go):
// default namespaces and no prefixes, sorted attributes, no comments or
// CDATA, minimal escaping. It stands alone, so it can be copied into JSON,
// and the same XML written by different writers gives the same string.
//
// # Where the model comes from
//
// The zz_*.go files are generated (go generate) by internal/fhirgen, a
// nested module that walks the descriptors of google/fhir's compiled STU3
// protocol buffers (github.com/google/fhir/go v0.7.4). Those descriptors
// carry each element's FHIR name (JSON name), cardinality, order (field
// numbers follow the StructureDefinitions), choice types (messages marked
// is_choice_type), reference targets and code bindings, so the 486 structs
// are derived from the official definitions rather than typed by hand.
// The generator special-cases what the protos encode differently from the
// FHIR wire formats: Reference (a oneof of typed ids in the proto; here
// reference/identifier/display), Extension (url is an attribute and the
// FHIR order is extension, url, value), Element.id (an XML attribute),
// bound codes (enums there, Code here) and xhtml. Keeping the generator in
// its own module means gpcm never depends on protobuf or google/fhir.
//
// The enums of the bound codes are not lost: a code element bound with
// strength required has a closed list of codes in the protos, and the
// generator writes each such binding and its value set's codes to
// zz_bindings.go. [RequiredBinding] looks one up and [CheckBindings]
// reports every code of a resource outside its value set (a Patient.gender
// of "m"); the codecs themselves accept any code, as the lenient reader
// must.
//
// # Codecs
//
// [Decode] tells XML from JSON by the first significant byte and calls the
// right one. [DecodeXML] and [DecodeJSON] stream: each goes through a small tokenizer
// of our own (not encoding/xml or encoding/json, whose buffers grow with
// whitespace runs and whose XML decoder has no depth bound on Token) that
// reads through a byte limit, and the decoder fills the model
// through per-type plans built once by reflection from the generated
// struct tags. Elements out of canonical order are accepted and returned as
// [Finding]s (path + message); an element the model cannot hold is an
// error naming its path, never dropped.
//
// The XML reader follows XML 1.0 (fifth edition) and Namespaces in XML 1.0
// for documents without a DTD. Elements are matched by namespace name and
// local name, so any prefix bound to http://hl7.org/fhir or
// http://www.w3.org/1999/xhtml works wherever the default namespace does,
// as Python's ElementTree (ns0:, html:) and other writers use them; an
// unbound prefix is an error. Comments, processing instructions and CDATA
// sections are understood by the tokenizer wherever they may appear (CDATA
// in the narrative is text; elsewhere only whitespace, like any text
// there). Line ends are normalised (CR LF and CR to LF) and attribute
// values as XML 1.0 §3.3.3 says for attributes without a DTD (a literal tab,
// newline or carriage return becomes a space; &#10; stays a newline).
// Characters, names, comments, the XML declaration (UTF-8 only) and
// duplicate attributes (also by expanded name) are checked. Any DOCTYPE or
// entity declaration is rejected before anything is expanded ([ErrDTD]);
// only the five predefined entities and character references are
// understood. Attributes from other namespaces (such as xsi:schemaLocation)
// are ignored with a finding that names the namespace, not the prefix.
// Whitespace before the XML declaration is tolerated.
//
// [DecodeXMLContext] and [DecodeJSONContext] stop when their context ends;
// they look at it before each read of at most 32 KiB, and every step of
// both readers costs time linear in the input it consumes (attribute
// duplicates and prefixes are looked up in maps, not by scanning), so a
// caller can give each document a processing budget.
//
// The plans are built by reflection rather than by generating decode and
// encode code per type: one small engine serves both formats and all 486
// types, and it still runs two to five times faster than a bare
// encoding/xml Decoder.Token scan of the same bytes (BenchmarkCodec).
//
// [EncodeXML] and [EncodeJSON] write bytes directly in canonical STU3 order,
// pretty by default or compact, always namespace-well-formed: default
// namespaces only, and the narrative in its canonical form whatever string
// the model holds (a div that is not well-formed XHTML is an
// [EncodeError]). JSON follows the STU3 rules: resourceType,
// arrays for repeating elements, _name objects for ids and extensions of
// primitives (null-padded in arrays), valueX names for choices, and
// booleans and numbers written unquoted with their exact lexical form.
//
// # Limits
//
// [DecodeOptions] bounds the document size (default 32 MiB), the element
// depth (default 200), the number of elements (default 200 000) and, per
// XML element, the attributes (default 256) and namespace declarations
// (default 64); names are at most 4096 bytes and the narrative, written
// canonically, at most the document size in total. Crossing any gives a
// *[LimitError] naming the limit, the byte offset and the element path. A
// receiver validating with package senddoc answers a message refused by
// the byte limit with ITK3 20015 (message too large) and one refused by any
// other limit with 10009 (unreadable message, response.identifier
// UNREADABLE-IN-ORIGINAL-MESSAGE), as for malformed input.
//
// The decoders never buffer the input as a whole: the XML reader's buffer
// stays at 32 KiB, the JSON reader's holds one number; names, values and
// text are copied out as they stream past, and a value longer than 64 KiB
// (such as a base64 attachment) is gathered in chunks and then copied once
// into its string. A 500 MB stream is refused after 32 MiB with the heap a
// few MB above where it started, and a document whose bulk is one value
// costs about twice the value's size while that value is read, then once.
// Findings are capped at [DefaultMaxFindings] per document (a last finding
// counts those left out). The element bound exists because the typed model
// of many tiny elements is several times larger than their text. Malformed
// input gives a *[SyntaxError] with line, byte offset and element path;
// error messages never quote primitive values, which may be patient data.
package fhir
