package fhir_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/gpcm/gpcm/fhir"
)

func ExampleDecodeXML() {
	doc := `<Patient xmlns="http://hl7.org/fhir">
  <gender value="female"/>
  <active value="true"/>
</Patient>`
	res, findings, err := fhir.DecodeXML(strings.NewReader(doc), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println("finding:", f)
	}
	p := res.(*fhir.Patient)
	fmt.Println(p.Active.Bool(), p.Gender)
	fhir.EncodeJSON(os.Stdout, res, nil)
	// Output:
	// finding: Patient.active: element active out of order: it must come before gender
	// true female
	// {
	//   "resourceType": "Patient",
	//   "active": true,
	//   "gender": "female"
	// }
}

func ExampleEncodeXML() {
	obs := &fhir.Observation{
		Status:  fhir.NewCode("final"),
		Code:    &fhir.CodeableConcept{Text: fhir.NewString("Body weight")},
		Subject: &fhir.Reference{Reference: fhir.NewString("urn:uuid:5bc1f3d2-0000-4000-8000-000000000001")},
		Value:   &fhir.Quantity{Value: fhir.NewDecimal("72.50"), Unit: fhir.NewString("kg")},
	}
	fhir.EncodeXML(os.Stdout, obs, nil)
	// Output:
	// <Observation xmlns="http://hl7.org/fhir">
	//   <status value="final"/>
	//   <code>
	//     <text value="Body weight"/>
	//   </code>
	//   <subject>
	//     <reference value="urn:uuid:5bc1f3d2-0000-4000-8000-000000000001"/>
	//   </subject>
	//   <valueQuantity>
	//     <value value="72.50"/>
	//     <unit value="kg"/>
	//   </valueQuantity>
	// </Observation>
}
