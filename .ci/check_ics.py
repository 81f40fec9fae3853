#!/usr/bin/env python3
"""Books a call on a seeded server and checks its invites in a real iCalendar parser.

Usage: check_ics.py BASE_URL   (a server seeded with `frontdesk seed-demo`)

Python's `icalendar` must parse every invite; a reschedule keeps the UID and raises the
SEQUENCE; a cancellation says METHOD:CANCEL and STATUS:CANCELLED; the invite says where
(LOCATION, URL) and carries the manage link in its DESCRIPTION.
"""

import json
import sys
import urllib.request

from icalendar import Calendar

BASE = sys.argv[1].rstrip("/")


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def invite(token):
    calendar = Calendar.from_ical(call("GET", f"/v1/bookings/{token}/invite.ics"))
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert len(events) == 1, events
    return calendar, events[0]


slots = json.loads(call("GET", "/v1/call-types/discovery-call/slots?tz=America/Chicago"))["slots"]
assert len(slots) >= 2, "the demo offers slots"
booking = json.loads(call("POST", "/v1/bookings", {
    "call_type": "discovery-call", "start": slots[0]["start"], "time_zone": "America/Chicago",
    "first_name": "Ci", "last_name": "Check", "email": "ci-check@example.com", "consent": True,
}))
token = booking["manage_token"]

calendar, event = invite(token)
assert str(calendar["METHOD"]) == "REQUEST"
uid = str(event["UID"])
assert int(event["SEQUENCE"]) == 0
assert event.decoded("DTSTART").isoformat().startswith(slots[0]["start_utc"][:16]), (event.decoded("DTSTART"), slots[0])
print(f"ok invite: UID {uid}, SEQUENCE 0, starts {event.decoded('DTSTART')}")
# The demo's discovery call is a video call on the host's link: where, and how to manage it.
location = str(event["LOCATION"])
assert location.startswith("https://meet.example.com/"), location
assert str(event["URL"]) == location, (event["URL"], location)
assert f"/v1/bookings/{token}" in str(event["DESCRIPTION"]), event["DESCRIPTION"]
assert booking["booking"]["location"]["url"] == location, booking["booking"]["location"]
print(f"ok location: LOCATION and URL {location}, DESCRIPTION with the manage link")

call("POST", f"/v1/bookings/{token}/reschedule", {"start": slots[1]["start"]})
_, event = invite(token)
assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1
print("ok reschedule: same UID, SEQUENCE 1")

call("POST", f"/v1/bookings/{token}/cancel", {"reason": "CI check"})
calendar, event = invite(token)
assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 2
print("ok cancel: METHOD:CANCEL, STATUS:CANCELLED, SEQUENCE 2")
