package schema_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/at-technology/atqueue/schema"
)

func ExampleInputs() {
	type Args struct {
		Text  string   `json:"text"`
		Times int      `json:"times" default:"1" desc:"repetitions"`
		Tags  []string `json:"tags,omitempty"`
	}
	inputs, err := schema.Inputs(reflect.TypeFor[Args]())
	if err != nil {
		panic(err)
	}
	for _, in := range inputs {
		fmt.Println(in.Name, in.Required, string(in.Schema))
	}
	out, _ := schema.Output(reflect.TypeFor[int]())
	fmt.Println(string(out))
	// Output:
	// text true {"title":"Text","type":"string"}
	// times false {"title":"Times","description":"repetitions","default":1,"type":"integer"}
	// tags false {"title":"Tags","type":"array","items":{"type":"string"}}
	// {"title":"Result","type":"integer"}
}

func ExampleValidator_Validate() {
	type Args struct {
		A int `json:"a"`
		B int `json:"b"`
	}
	inputs, _ := schema.Inputs(reflect.TypeFor[Args]())
	v, err := schema.Compile(inputs, false)
	if err != nil {
		panic(err)
	}

	args, _ := v.Validate(map[string]any{"a": json.Number("1"), "b": "2"})
	raw, _ := json.Marshal(args)
	fmt.Println(string(raw))

	_, err = v.Validate(map[string]any{"a": 5, "b": "b"})
	var ve *schema.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Argument(), "-", ve)
		fmt.Println(ve.PydanticJSON())
	}
	// Output:
	// {"a":1,"b":2}
	// b - b: value is not a valid integer
	// [
	//     {
	//         "loc": [
	//             "b"
	//         ],
	//         "msg": "value is not a valid integer",
	//         "type": "type_error.integer"
	//     }
	// ]
}
