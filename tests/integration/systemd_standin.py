"""systemd_standin.py - a stand-in for systemd's D-Bus API (integration test helper): owns
org.freedesktop.systemd1 on the bus at ADDRESS and answers what sonde's and node_exporter's
systemd collectors ask: Manager.ListUnits, the Manager properties, and the Unit, Service,
Socket, Timer and Mount properties of each unit's object (Properties.Get and GetAll), from
the JSON file DATA (re-read when it changes, so a test can change the answers mid-run).
Runs under Debian's python3 (python3-dbus, python3-gi).
usage: systemd_standin.py ADDRESS DATA
"""

import json
import os
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

BUS_NAME = "org.freedesktop.systemd1"
ROOT = "/org/freedesktop/systemd1"
UNIT_PREFIX = ROOT + "/unit"
IFACE = "org.freedesktop.systemd1."
PROPS = "org.freedesktop.DBus.Properties"

# D-Bus types of the properties the data file may set (systemd's API).
SIGNATURES = {
    "Version": "s",
    "SystemState": "s",
    "Virtualization": "s",
    "NNames": "u",
    "Type": "s",
    "NRestarts": "u",
    "TasksCurrent": "t",
    "TasksMax": "t",
    "ActiveEnterTimestamp": "t",
    "NAccepted": "u",
    "NConnections": "u",
    "NRefused": "u",
    "LastTriggerUSec": "t",
    "LastTriggerUSecMonotonic": "t",
}

# Properties systemd's GetAll returns besides the ones asked for, of other shapes, so that
# a reader must skip what it does not know.
EXTRA = {
    "Service": {
        "ExecStart": dbus.Array(
            [dbus.Struct(("/usr/sbin/sshd", ["/usr/sbin/sshd", "-D"], False, 0, 0, 0, 0, 0, 0, 0),
                         signature="sasbttttuii")],
            signature="(sasbttttuii)"),
        "Environment": dbus.Array(["LANG=C", "A=b"], signature="s"),
        "MainPID": dbus.UInt32(1234),
        "ExitType": dbus.String("main"),
    },
    "Socket": {
        "Listen": dbus.Array([dbus.Struct(("Stream", "/run/x.sock"), signature="ss")],
                             signature="(ss)"),
        "Accept": dbus.Boolean(False),
    },
    "Timer": {
        "TimersCalendar": dbus.Array(
            [dbus.Struct(("OnCalendar", "daily", dbus.UInt64(0)), signature="sst")],
            signature="(sst)"),
        "Persistent": dbus.Boolean(True),
    },
    "Manager": {
        "Features": dbus.String("+PAM +AUDIT"),
        "Environment": dbus.Array(["PATH=/usr/bin"], signature="s"),
        "NNames": dbus.UInt32(123),
    },
}


def escape(name):
    """systemd's bus_label_escape: ASCII letters kept, digits too except first, every other
    byte as _xx (hex); the empty name is "_"."""
    out = []
    for i, b in enumerate(name.encode()):
        c = chr(b)
        keep = ("a" <= c <= "z") or ("A" <= c <= "Z") or (i > 0 and "0" <= c <= "9")
        out.append(c if keep else "_%02x" % b)
    return "".join(out) or "_"


class Data:
    def __init__(self, path):
        self.path = path
        self.mtime = None
        self.doc = None

    def get(self):
        st = os.stat(self.path)
        if st.st_mtime_ns != self.mtime:
            with open(self.path, encoding="utf-8") as f:
                self.doc = json.load(f)
            self.mtime = st.st_mtime_ns
        return self.doc

    def unit(self, rel):
        for u in self.get()["units"]:
            if "/" + escape(u["name"]) == rel:
                return u
        return None


def variant(name, value):
    sig = SIGNATURES.get(name)
    if sig is None:
        raise KeyError(name)
    cls = {"s": dbus.String, "u": dbus.UInt32, "t": dbus.UInt64}[sig]
    return cls(value, variant_level=1)


def unknown_property(iface, name):
    return dbus.exceptions.DBusException(
        "Unknown property %s.%s" % (iface, name),
        name="org.freedesktop.DBus.Error.UnknownProperty")


def unknown_interface(iface):
    return dbus.exceptions.DBusException(
        "Unknown interface %s" % iface, name="org.freedesktop.DBus.Error.UnknownInterface")


def interface_props(data, unit, iface):
    """The properties of `unit` (None: the manager) on interface `iface`, as a dict of
    variants; raises UnknownInterface when the object has no such interface."""
    if not iface.startswith(IFACE):
        raise unknown_interface(iface)
    short = iface[len(IFACE):]
    if unit is None:
        if short != "Manager":
            raise unknown_interface(iface)
        values = data.get()["manager"]
    elif short == "Unit":
        values = dict(unit.get("Unit", {}))
        values.update({"Id": unit["name"], "LoadState": unit["load"],
                       "ActiveState": unit["active"], "SubState": unit["sub"]})
    else:
        suffix = unit["name"].rsplit(".", 1)[-1]
        if short.lower() != suffix:
            raise unknown_interface(iface)
        values = unit.get(short, {})
    out = {}
    for k, v in values.items():
        out[k] = dbus.String(v, variant_level=1) if k in (
            "Id", "LoadState", "ActiveState", "SubState") else variant(k, v)
    return out, short


class Manager(dbus.service.Object):
    def __init__(self, conn, data):
        super().__init__(conn, ROOT)
        self.data = data

    @dbus.service.method(IFACE + "Manager", in_signature="", out_signature="a(ssssssouso)")
    def ListUnits(self):
        return [(u["name"], u.get("description", ""), u["load"], u["active"], u["sub"], "",
                 dbus.ObjectPath(UNIT_PREFIX + "/" + escape(u["name"])), dbus.UInt32(0), "",
                 dbus.ObjectPath("/")) for u in self.data.get()["units"]]

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        props, _ = interface_props(self.data, None, iface)
        if name not in props:
            raise unknown_property(iface, name)
        return props[name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        props, short = interface_props(self.data, None, iface)
        props.update(EXTRA.get(short, {}))
        return dbus.Dictionary(props, signature="sv")


class Units(dbus.service.FallbackObject):
    def __init__(self, conn, data):
        super().__init__(conn, UNIT_PREFIX)
        self.data = data

    def _unit(self, rel):
        unit = self.data.unit(rel)
        if unit is None:
            raise dbus.exceptions.DBusException(
                "Unknown object %s" % rel, name="org.freedesktop.DBus.Error.UnknownObject")
        return unit

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v", rel_path_keyword="rel")
    def Get(self, iface, name, rel=None):
        props, _ = interface_props(self.data, self._unit(rel), iface)
        if name not in props:
            raise unknown_property(iface, name)
        return props[name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}", rel_path_keyword="rel")
    def GetAll(self, iface, rel=None):
        props, short = interface_props(self.data, self._unit(rel), iface)
        props.update(EXTRA.get(short, {}))
        return dbus.Dictionary(props, signature="sv")


def main():
    address, path = sys.argv[1], sys.argv[2]
    DBusGMainLoop(set_as_default=True)
    conn = dbus.bus.BusConnection(address)
    data = Data(path)
    data.get()
    Manager(conn, data)
    Units(conn, data)
    # Owned last: a client that sees the name finds every object in place.
    name = dbus.service.BusName(BUS_NAME, conn, do_not_queue=True)
    print("ready", name.get_name(), flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
