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
// (Narrative.Div) is kept verbatim: the exact bytes of the div in XML, a
// string in JSON.
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
// error naming its path, never dropped. Comments, processing instructions
// and the XML declaration are skipped (comments are not kept). Any
// DOCTYPE or entity declaration is rejected before anything is expanded
// ([ErrDTD]); only the five predefined entities and character references
// are understood. Attributes from other namespaces (such as
// xsi:schemaLocation) are ignored with a finding.
//
// The plans are built by reflection rather than by generating decode and
// encode code per type: one small engine serves both formats and all 486
// types, and it still runs two to five times faster than a bare
// encoding/xml Decoder.Token scan of the same bytes (BenchmarkCodec).
//
// [EncodeXML] and [EncodeJSON] write bytes directly in canonical STU3 order,
// pretty by default or compact. JSON follows the STU3 rules: resourceType,
// arrays for repeating elements, _name objects for ids and extensions of
// primitives (null-padded in arrays), valueX names for choices, and
// booleans and numbers written unquoted with their exact lexical form.
//
// # Limits
//
// [DecodeOptions] bounds the document size (default 32 MiB), the element
// depth (default 200) and the number of elements (default 200 000);
// crossing any gives a *[LimitError] naming the limit, the byte offset and
// the element path. The decoders never buffer the input as a whole: they
// read through the size limit into a buffer that holds one token, so a
// 500 MB stream is refused after 32 MiB with the heap a few MB (or, for one
// giant token such as a base64 value, about twice the limit) above where it
// started. The element bound exists because the typed model of many tiny
// elements is several times larger than their text. Malformed input gives
// a *[SyntaxError] with line, byte offset and element path; error messages
// never quote primitive values, which may be patient data.
package fhir
