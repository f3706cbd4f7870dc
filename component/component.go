package component

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/at-technology/atqueue/schema"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
)

// Component is the definition of a component: its name, description, methods and hooks.
// Build it with New and Method, then start it with Start (or actors.System.Spawn). A
// definition is not modified once started.
type Component struct {
	name        string
	description string
	methods     map[string]*method
	order       []string
	errs        []error

	policy          supervision.Policy
	callTimeout     time.Duration
	registerTimeout time.Duration
	prefetch        int
	maxBody         int
	dedupeWindow    int
	dedupeFile      string
	registryCheck   time.Duration
	checkConfigured func(ctx context.Context, token string) (bool, error)
	configure       func(ctx context.Context, config json.RawMessage, token string) (any, error)
	onStart         func(ctx context.Context) error
}

// Option configures a component.
type Option func(*Component)

// Describe sets the component's description (Python always sends null).
func Describe(text string) Option { return func(c *Component) { c.description = text } }

// WithPolicy sets the supervision policy of the component's actor.
func WithPolicy(p supervision.Policy) Option { return func(c *Component) { c.policy = p } }

// WithCallTimeout bounds calls whose context has no deadline (default 30s).
func WithCallTimeout(d time.Duration) Option { return func(c *Component) { c.callTimeout = d } }

// WithRegisterTimeout bounds registration when Start's context has no deadline (default 10s).
func WithRegisterTimeout(d time.Duration) Option {
	return func(c *Component) { c.registerTimeout = d }
}

// WithPrefetch bounds the requests handled at once (default bridge.DefaultPrefetch).
func WithPrefetch(n int) Option { return func(c *Component) { c.prefetch = n } }

// WithMaxBody sets the largest message body accepted (default wire.DefaultMaxBody).
func WithMaxBody(n int) Option { return func(c *Component) { c.maxBody = n } }

// WithDedupeWindow sets how many recent requests are remembered so that one delivered
// again is answered from memory instead of executed twice (default 4096; 0 turns it off).
func WithDedupeWindow(n int) Option { return func(c *Component) { c.dedupeWindow = n } }

// WithDedupeFile keeps the dedupe window in a journal at path, so that it outlives the
// process: a request redelivered to a restarted component is answered from the journal
// instead of run twice, and a request that killed the process 3 times (a poison request)
// is answered with an error instead of started again. One file per component.
func WithDedupeFile(path string) Option { return func(c *Component) { c.dedupeFile = path } }

// WithRegistryCheck sets how often the component checks that the registry still knows it
// (default 15s, each time within ±20% so that components started together do not check
// together; 0 turns it off). The check counts the consumers of the component's send
// queue, which the registry consumes for every component it knows. With none, it counts
// the registry's own queue's: a registry that reads it has forgotten the component (it
// restarted without its state), which registers again at once, on the same session.
// Otherwise (no registry runs, or the transport cannot count) it asks the registry, and
// registers again when the registry does not answer. A component that follows the
// directory (it made a call, direct calls on) always asks: the question also renews its
// subscription. The components of an actors.System check at most 20 times a second
// together (actors.WithCheckRate): in a process of more than 300, each checks less often.
func WithRegistryCheck(every time.Duration) Option {
	return func(c *Component) { c.registryCheck = every }
}

// OnCheckConfigured overrides the answer to check_configured (default true).
func OnCheckConfigured(f func(ctx context.Context, token string) (bool, error)) Option {
	return func(c *Component) { c.checkConfigured = f }
}

// OnConfigurate receives the config of a configurate request and the caller's token; its
// result is the answer's "result" (default true).
func OnConfigurate(f func(ctx context.Context, config json.RawMessage, token string) (any, error)) Option {
	return func(c *Component) { c.configure = f }
}

// OnStart runs each time the component's actor starts, restarts included.
func OnStart(f func(ctx context.Context) error) Option { return func(c *Component) { c.onStart = f } }

// New defines a component called name.
func New(name string, opts ...Option) *Component {
	c := &Component{
		name:            name,
		methods:         map[string]*method{},
		policy:          supervision.DefaultPolicy(),
		callTimeout:     30 * time.Second,
		registerTimeout: 10 * time.Second,
		maxBody:         wire.DefaultMaxBody,
		dedupeWindow:    4096,
		registryCheck:   15 * time.Second,
	}
	if name == "" || name == wire.RegistryName {
		c.errs = append(c.errs, fmt.Errorf("%w: the name %q cannot be used", ErrInvalidDefinition, name))
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns the component's name, its address.
func (c *Component) Name() string { return c.name }

// argDecodeError is an argument that passed the schema but does not fit its Go type;
// field is its JSON path ("p.x"), "" when unknown.
type argDecodeError struct {
	field string
	err   error
}

func (e *argDecodeError) Error() string { return e.err.Error() }

// issues renders the error as the pydantic issue of the field.
func (e *argDecodeError) issues() *schema.ValidationError {
	loc := []any{"__root__"}
	if e.field != "" {
		loc = loc[:0]
		for _, part := range strings.Split(e.field, ".") {
			if i, err := strconv.Atoi(part); err == nil {
				loc = append(loc, i)
			} else {
				loc = append(loc, part)
			}
		}
	}
	return &schema.ValidationError{Issues: []schema.Issue{{Loc: loc, Msg: e.err.Error(), Type: "value_error"}}}
}

type method struct {
	name        string
	description string
	authorized  bool
	allowExtra  bool
	inputs      []schema.Input
	hasToken    bool // the argument struct declares auth_token itself
	output      json.RawMessage
	validator   *schema.Validator
	call        func(ctx context.Context, args []byte) (any, error)
	// callValid calls with the arguments Validate returned, without their JSON, after
	// writing the method's name to *current; called is false (and nothing was called or
	// written) when call must decode them (see fillPlan).
	callValid func(ctx context.Context, valid map[string]any, current *string) (res any, called bool, err error)
}

// MethodOption configures one method.
type MethodOption func(*method)

// Description sets a method's description.
func Description(text string) MethodOption { return func(m *method) { m.description = text } }

// Authorized marks a method that needs the caller's auth_token (spec §7.1–7.2). The
// token is hidden from the registered inputs; the method reads it with AuthToken(ctx), or
// through an argument field tagged json:"auth_token".
func Authorized() MethodOption { return func(m *method) { m.authorized = true } }

// AllowExtra accepts arguments that the argument struct does not declare (Python's
// **kwargs). They stay in the JSON the argument struct is decoded from, so a field with a
// custom UnmarshalJSON (or a json.RawMessage-typed struct) can read them.
func AllowExtra() MethodOption { return func(m *method) { m.allowExtra = true } }

// Method adds a typed method. A is a struct whose exported fields are the named arguments
// (json tags give the names, `desc` tags descriptions, `default` tags defaults); R is
// encoded as the result. Definition errors surface when the component starts.
func Method[A, R any](c *Component, name string, fn func(ctx context.Context, args A) (R, error), opts ...MethodOption) {
	m := &method{name: name}
	for _, o := range opts {
		o(m)
	}
	err := m.derive(reflect.TypeFor[A](), reflect.TypeFor[R]())
	if err == nil && fn == nil {
		err = errors.New("nil function")
	}
	if err == nil && c.methods[name] != nil {
		err = errors.New("defined twice")
	}
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("%w: method %q: %v", ErrInvalidDefinition, name, err))
		return
	}
	m.call = func(ctx context.Context, args []byte) (any, error) {
		var a A
		if err := wire.Unmarshal(args, &a); err != nil {
			var te *json.UnmarshalTypeError
			field := ""
			if errors.As(err, &te) {
				field = te.Field
			}
			return nil, &argDecodeError{field: field, err: err}
		}
		return fn(ctx, a)
	}
	if plan := planFill(reflect.TypeFor[A]()); plan != nil {
		m.callValid = func(ctx context.Context, valid map[string]any, current *string) (any, bool, error) {
			var a A
			if !plan.fill(reflect.ValueOf(&a).Elem(), valid) {
				return nil, false, nil
			}
			*current = name
			res, err := fn(ctx, a)
			return res, true, err
		}
	}
	c.methods[name] = m
	c.order = append(c.order, name)
}

// firstInput is what Python puts in a MethodArgumentSchemaException's "argument": the
// name of the method's first registered input, nil when it has none.
func (m *method) firstInput() any {
	if len(m.inputs) == 0 {
		return nil
	}
	return m.inputs[0].Name
}

// validators holds the compiled validator of every arguments type seen, by type and
// allowExtra: the inputs derive from the type alone, and a Validator is immutable, so the
// components of one type in a process (a host of many, a test's restarts) compile each
// schema once. Compiling checks the schema against its metaschema, the most expensive
// step of a component's start.
var validators sync.Map // validatorKey → *schema.Validator

type validatorKey struct {
	args       reflect.Type
	allowExtra bool
}

func compileArgs(args reflect.Type, allowExtra bool, inputs []schema.Input) (*schema.Validator, error) {
	key := validatorKey{args, allowExtra}
	if v, ok := validators.Load(key); ok {
		return v.(*schema.Validator), nil
	}
	v, err := schema.Compile(inputs, allowExtra)
	if err != nil {
		return nil, err
	}
	shared, _ := validators.LoadOrStore(key, v) // two first starts at once keep one
	return shared.(*schema.Validator), nil
}

func (m *method) derive(args, result reflect.Type) error {
	inputs, err := schema.Inputs(args)
	if err != nil {
		return err
	}
	for _, in := range inputs {
		if in.Name == wire.AuthTokenHeader && m.authorized {
			m.hasToken = true // validated, but hidden from the registered inputs
			continue
		}
		m.inputs = append(m.inputs, in)
	}
	if m.validator, err = compileArgs(args, m.allowExtra, inputs); err != nil {
		return err
	}
	if result == reflect.TypeFor[any]() {
		result = nil
	}
	m.output, err = schema.Output(result)
	return err
}

// description renders the register payload's component object (spec §8.2).
func (c *Component) describe() wire.Object {
	methods := wire.Object{}
	for _, n := range c.order {
		m := c.methods[n]
		inputs := wire.Object{}
		for _, in := range m.inputs {
			inputs = append(inputs, wire.Field{Key: in.Name, Value: wire.Object{
				{Key: "name", Value: in.Name},
				{Key: "required", Value: in.Required},
				{Key: "schema", Value: in.Schema},
				{Key: "strict_validation", Value: false},
				{Key: "description", Value: nullable(in.Description)},
			}})
		}
		methods = append(methods, wire.Field{Key: n, Value: wire.Object{
			{Key: "name", Value: n},
			{Key: "description", Value: nullable(m.description)},
			{Key: "inputs", Value: inputs},
			{Key: "output", Value: wire.Object{
				{Key: "schema", Value: m.output},
				{Key: "strict_validation", Value: false},
				{Key: "description", Value: nil},
			}},
		}})
	}
	return wire.Object{
		{Key: "name", Value: c.name},
		{Key: "description", Value: nullable(c.description)},
		{Key: "methods", Value: methods},
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
