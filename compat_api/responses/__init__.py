"""``/v1/responses``: the Responses API over Paddler, with stored responses."""
