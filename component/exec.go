package component

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/at-technology/atqueue/schema"
	"github.com/at-technology/atqueue/wire"
)

// exec runs an exec_method request (spec §7.1) and returns the answer's message. Where
// the Python package crashes and sends nothing (no method name, "args": null, a
// validation failure of a method without inputs) it answers with an error instead.
func (h *Handle) exec(ctx context.Context, env *wire.Envelope, p *request, headerToken string, hasHeader bool, current *string) any {
	name := h.def.name
	fail := func(text string, methodName any) any {
		return wire.ErrorsMessage(wire.Exception(text, ExecMethodException, h.sid, name, env.MessageID, env.Message,
			wire.Field{Key: "method", Value: methodName}))
	}
	methodName, ok := wire.StringValue(p.method)
	if !ok {
		return fail(fmt.Sprintf(`Component "%s" received execute method message with id "%s" from "%s" without a method name`,
			name, env.MessageID, env.Sender), nil)
	}
	m := h.def.methods[methodName]
	if m == nil {
		return fail(fmt.Sprintf(`Component "%s" received execute method message with id "%s" from "%s" but got unknown method name "%s". Avalible method names are: %s`,
			name, env.MessageID, env.Sender, methodName, wire.PyRepr(h.def.order)), nil)
	}
	argsP := argMaps.Get().(*map[string]any)
	defer releaseArgs(argsP)
	args := *argsP
	if len(p.args) > 0 {
		if p.args[0] != '{' {
			return fail(fmt.Sprintf(`Component "%s" received execute method message with id "%s" from "%s" whose "args" is not an object: %s`,
				name, env.MessageID, env.Sender, p.args), methodName)
		}
		if err := wire.UnmarshalNumbers(p.args, argsP); err != nil {
			return fail(fmt.Sprintf(`Component "%s" could not read the arguments of message "%s": %v`, name, env.MessageID, err), methodName)
		}
		args = *argsP
	}
	// Authorized methods (spec §7.1 step 3): the header token is passed as the auth_token
	// argument unless the arguments carry one. A method that declares auth_token gets it
	// validated like any argument (missing: "field required", as in Python); for one that
	// does not, a missing token is a NotAuthorizedMethodException after validation.
	var token string
	tokenOK := false
	if m.authorized {
		if _, inArgs := args[wire.AuthTokenHeader]; !inArgs && hasHeader {
			args[wire.AuthTokenHeader] = headerToken
		}
		if !m.hasToken {
			token, tokenOK = args[wire.AuthTokenHeader].(string)
			delete(args, wire.AuthTokenHeader)
		}
	}
	// A refusal names, as Python does (spec quirk 10), the method's first visible input in
	// "argument" whatever failed; the failing fields are the locations in error_message.
	invalid := func(verr *schema.ValidationError) any {
		return wire.ErrorsMessage(wire.Exception(verr.PydanticJSON(), MethodArgumentSchemaException, h.sid, name,
			env.MessageID, env.MessageID, wire.Field{Key: "method", Value: methodName}, wire.Field{Key: "argument", Value: m.firstInput()}))
	}
	validP := argMaps.Get().(*map[string]any)
	defer releaseArgs(validP)
	valid := *validP
	err := m.validator.ValidateInto(valid, args)
	if err != nil {
		var verr *schema.ValidationError
		if !errors.As(err, &verr) {
			return wire.ErrorsMessage(err.Error())
		}
		return invalid(verr)
	}
	if m.authorized {
		if m.hasToken {
			token, tokenOK = valid[wire.AuthTokenHeader].(string)
		}
		if !tokenOK && !m.hasToken {
			return wire.ErrorsMessage(wire.Exception(
				fmt.Sprintf("Missing auth_token argument to execute method %s.%s", name, methodName),
				NotAuthorizedMethodException, h.sid, name, env.MessageID, env.Message,
				wire.Field{Key: "method", Value: nil}))
		}
		ctx = context.WithValue(ctx, tokenKey{}, token)
	}
	var res any
	called := false
	if m.callValid != nil {
		res, called, err = m.callValid(ctx, valid, current)
	}
	if !called {
		encoded, cerr := wire.Compact(valid)
		if cerr != nil {
			return wire.ErrorsMessage(cerr.Error())
		}
		*current = methodName
		res, err = m.call(ctx, encoded)
	}

	if err != nil {
		var decodeErr *argDecodeError
		if errors.As(err, &decodeErr) {
			// The schema admits it but the Go type does not (a custom UnmarshalJSON refused it).
			return invalid(decodeErr.issues())
		}
		if errors.Is(err, ErrRestart) {
			return restartMarker{err: err}
		}
		return wire.ErrorsMessage(err.Error())
	}
	return wire.MethodResult{Result: res}
}

// argMaps holds empty maps for exec to decode and validate arguments into. Neither
// outlives its request: Validate copies what it keeps, and a method gets its arguments
// as a struct filled from the values or decoded from their JSON.
// They are kept by pointer: the decoder takes the map's address.
var argMaps = sync.Pool{New: func() any { m := map[string]any{}; return &m }}

// releaseArgs empties *m and keeps it for another request, unless it grew large.
func releaseArgs(m *map[string]any) {
	if len(*m) <= 64 {
		clear(*m)
		argMaps.Put(m)
	}
}

// restartMarker is what exec returns for a method that asked for a restart (ErrRestart).
type restartMarker struct{ err error }

func (h *Handle) checkConfigured(ctx context.Context, token string) any {
	if h.def.checkConfigured == nil {
		return wire.Object{{Key: "result", Value: true}}
	}
	ok, err := h.def.checkConfigured(ctx, token)
	if err != nil {
		return wire.ErrorsMessage(err.Error())
	}
	return wire.Object{{Key: "result", Value: ok}}
}

func (h *Handle) configurate(ctx context.Context, env *wire.Envelope, config []byte, token string) any {
	if len(config) == 0 || config[0] != '{' {
		return wire.ErrorsMessage(wire.Exception(
			fmt.Sprintf(`Component "%s" received configurate message with id "%s" from "%s" without a "config" object`, h.def.name, env.MessageID, env.Sender),
			ProcessMessageException, h.sid, h.def.name, env.MessageID, env.Message))
	}
	if token != "" {
		user, err := h.verifyToken(ctx, token)
		if err != nil {
			return wire.ErrorsMessage(err.Error())
		}
		ctx = context.WithValue(ctx, userKey{}, user)
	}
	if h.def.configure == nil {
		return wire.Object{{Key: "result", Value: true}}
	}
	res, err := h.def.configure(ctx, json.RawMessage(config), token)
	if err != nil {
		return wire.ErrorsMessage(err.Error())
	}
	return wire.Object{{Key: "result", Value: res}}
}

// AuthWorkerName is the component that verifies tokens for configurate (spec §7.2).
const AuthWorkerName = "AuthWorker"

type userKey struct{}

// User returns who the configurate caller's token belongs to: AuthWorker.verify_token's
// answer when an AuthWorker is registered, else the token itself (spec §7.2).
func User(ctx context.Context) json.RawMessage {
	u, _ := ctx.Value(userKey{}).(json.RawMessage)
	return u
}

// verifyToken asks the registry whether an AuthWorker is registered and, if so, asks it
// to verify token, as the Python package does before a configurate.
func (h *Handle) verifyToken(ctx context.Context, token string) (json.RawMessage, error) {
	raw, _ := json.Marshal(token)
	ok, err := h.CheckRegistered(ctx, AuthWorkerName)
	if err != nil || !ok {
		return raw, err
	}
	var user json.RawMessage
	if err := h.Call(ctx, AuthWorkerName, "verify_token", map[string]string{"token": token}, &user); err != nil {
		return nil, fmt.Errorf("verifying the token with %s: %w", AuthWorkerName, err)
	}
	return user, nil
}
