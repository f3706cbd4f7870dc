package wire

import (
	"reflect"
	"strings"
	"sync"
)

// jsonField is a struct field as encoding/json sees it: its JSON name and the index path
// that reaches it through embedded structs.
type jsonField struct {
	name   string
	index  []int
	tagged bool
}

var fieldCache sync.Map // reflect.Type → []jsonField

// structField finds the field of struct type t that encoding/json decodes the object key
// into: the exact name first, else one that matches without regard to case.
func structField(t reflect.Type, key string) ([]int, bool) {
	fields := typeFields(t)
	for _, f := range fields {
		if f.name == key {
			return f.index, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f.index, true
		}
	}
	return nil, false
}

// typeFields lists the JSON-visible fields of t with encoding/json's rules: json tags name
// them, embedded structs without a tag are flattened, a shallower field hides deeper ones
// of the same name, and at equal depth a tagged field wins or, without one, none does.
func typeFields(t reflect.Type) []jsonField {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]jsonField)
	}
	type level struct {
		t     reflect.Type
		index []int
	}
	var all []jsonField
	visited := map[reflect.Type]bool{}
	for next := []level{{t: t}}; len(next) > 0; {
		current := next
		next = nil
		for _, l := range current {
			if visited[l.t] {
				continue
			}
			visited[l.t] = true
			for i := range l.t.NumField() {
				sf := l.t.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous {
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				index := append(l.index[:len(l.index):len(l.index)], i)
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, level{ft, index})
					continue
				}
				all = append(all, jsonField{name: name, index: index, tagged: name != ""})
				if name == "" {
					all[len(all)-1].name = sf.Name
				}
			}
		}
	}
	var out []jsonField
	for i, f := range all {
		winner, clash := -1, false
		for j, g := range all {
			if g.name != f.name {
				continue
			}
			switch {
			case winner < 0 || len(g.index) < len(all[winner].index):
				winner, clash = j, false
			case len(g.index) == len(all[winner].index):
				switch {
				case g.tagged && !all[winner].tagged:
					winner, clash = j, false
				case g.tagged == all[winner].tagged:
					clash = true
				}
			}
		}
		if winner == i && !clash {
			out = append(out, f)
		}
	}
	fieldCache.Store(t, out)
	return out
}
