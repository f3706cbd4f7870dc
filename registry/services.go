package registry

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
)

// service answers a request addressed to "registry". sender is the answer's sender:
// "registry" on the registry's own queue; through a broker, inspect answers carry the
// asking component's name (spec quirk 11).
func (r *registryActor) service(c actor.Context, env *wire.Envelope, reply, inspectSender string, d *bridge.Delivery) {
	st := r.st
	if wire.PeekType(env.Message) == wire.TypeCalls { // large, and read only when wanted
		r.reported(c, env, reply, d)
		return
	}
	var p struct {
		Type      string          `json:"type"`
		Component json.RawMessage `json:"component"`
	}
	_ = json.Unmarshal(env.Message, &p)
	var name string
	hasName := len(p.Component) > 0 && p.Component[0] == '"' && json.Unmarshal(p.Component, &name) == nil
	switch p.Type {
	case wire.TypeCheckRegistered:
		_, ok := st.byName[name]
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID, wire.Object{{Key: "result", Value: hasName && ok}}, nil, d)
	case wire.TypeInspect:
		var msg any
		switch e := st.byName[name]; {
		case !hasName:
			msg = wire.ErrorsMessage(`Field "component" (str) is required`)
		case e == nil:
			msg = wire.ErrorsMessage(wire.NotRegistered(name))
		default:
			msg = r.inspection(e)
		}
		r.answer(c, reply, inspectSender, env.Sender, env.MessageID, msg, nil, d)
	case wire.TypeInspectAll:
		all := make(wire.Object, 0, len(st.order))
		for _, n := range st.order {
			all = append(all, wire.Field{Key: n, Value: r.inspection(st.byName[n])})
		}
		r.answer(c, reply, inspectSender, env.Sender, env.MessageID, all, nil, d)
	case wire.TypeUnregister:
		// Only the registration it belongs to is removed, and only by the process that
		// made it: a Go component names its instance (a random id per run) in a header
		// when it registers and when it leaves. A Python component never unregisters, so
		// a registration without an instance is never removed on anyone's say: the
		// envelope's sender is not proof of who sent it. An unregister that waited in the
		// queue while no registry ran does not remove a later registration of the name
		// either (another instance).
		e := st.byName[env.Sender]
		inst, _ := d.Headers[InstanceHeader].(string)
		ok := e != nil && e.instance != "" && inst == e.instance &&
			(reply == wire.RecieveQueue(e.sid) || reply == wire.RecieveQueue(wire.RegistrySession))
		if e != nil && !ok {
			st.cfg.log.Warn("refused an unregister that does not come from the component's own instance", "component", e.name, "queue", d.Queue)
		}
		// The directory's followers hear of it first (remove), so that a caller that
		// learns the component stopped (it stops on this answer) no longer calls it
		// directly. The request is settled with the answer, before the consumer is
		// released (after the linger): the bridge cancels a consumer only after what it
		// owes for it is settled, and this request must not come back to unregister a
		// later registration.
		if ok {
			st.cfg.log.Info("unregistered", "component", e.name)
			r.keepRouting(c, e)
			r.remove(c, e)
		}
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID, wire.Object{{Key: "result", Value: ok}}, nil, d)
	case wire.TypeWatch:
		ok := r.watch(c, env, reply)
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID, wire.Object{{Key: "result", Value: ok}}, nil, d)
	case wire.TypeDirectory:
		r.serveDirectory(c, env, reply, d)
	default:
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID,
			wire.ErrorsMessage(fmt.Sprintf("Registry does not serve message type %s; it serves check_registered, inspect, inspect_all, directory and watch", wire.PyString(p.Type))), nil, d)
	}
}

// inspection is a directory record as inspect answers show it. For a component known to
// be dead the broker object also carries "alive": false (Python readers take only
// session_id from it); for a live one it is exactly Python's {"session_id"}.
func (r *registryActor) inspection(e *entry) wire.Object {
	broker := wire.Object{{Key: "session_id", Value: e.sid}}
	if e.dead(time.Now(), &r.st.cfg) {
		broker = append(broker, wire.Field{Key: "alive", Value: false})
	}
	return wire.Object{
		{Key: "broker", Value: broker},
		{Key: "component", Value: json.RawMessage(e.desc)},
	}
}
