"""The official SDK (bsg-sdk, generated from BSG's OpenAPI description) reads every answer.

A sandbox whose answers the SDK cannot read would not be faithful to BSG.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bsg_api import ApiClient, Configuration
from bsg_api.api.auth_api import AuthApi
from bsg_api.api.contact_api import ContactApi
from bsg_api.api.contact_field_api import ContactFieldApi
from bsg_api.api.contact_list_api import ContactListApi
from bsg_api.exceptions import ApiException
from bsg_api.models.contact_field_create_request import ContactFieldCreateRequest
from bsg_api.models.contact_field_type import ContactFieldType
from bsg_api.models.contact_field_value_pair import ContactFieldValuePair
from bsg_api.models.contact_group_schema import ContactGroupSchema
from bsg_api.models.contact_list_attach_request import ContactListAttachRequest
from bsg_api.models.contact_list_create_request import ContactListCreateRequest
from bsg_api.models.contact_list_detach_request import ContactListDetachRequest
from bsg_api.models.contact_list_update_request import ContactListUpdateRequest
from bsg_api.models.contact_update_request import ContactUpdateRequest
from bsg_api.models.login_request import LoginRequest
from bsg_api.models.search_operator import SearchOperator
from bsg_api.models.store_contact import StoreContact

from importer.sandbox import HlrModel


@pytest.fixture
def api(server: Any) -> Iterator[ApiClient]:
    config = Configuration(host=server.url)
    with ApiClient(config) as client:
        token = AuthApi(client).login(LoginRequest(api_key="live_sandbox"))
        assert token.bearer and token.bearer.count(".") == 2
        config.access_token = token.bearer
        yield client


def test_lists(api: ApiClient) -> None:
    lists = ContactListApi(api)
    created = lists.contact_list_create(ContactListCreateRequest(name="Promo")).data
    assert created is not None and created.id and created.name == "Promo"
    assert created.description is None and created.default is False and created.items == 0
    again = lists.contact_list(created.id).data
    assert again is not None and again.name == "Promo"
    found = lists.contact_list_search(
        search_field="name", search_operator=SearchOperator("="), search_value="Promo"
    )
    assert [g.id for g in found.data or []] == [created.id]
    assert found.meta is not None and found.meta.page is not None and found.meta.page.total == 1
    listed = lists.contact_lists(page_offset=0, page_limit=15)
    assert listed.total == 1
    renamed = lists.contact_list_update(created.id, ContactListUpdateRequest(name="Promo 2")).data
    assert renamed is not None and renamed.name == "Promo 2"
    with pytest.raises(ApiException) as refused:
        lists.contact_list_create(ContactListCreateRequest(name="Promo 2"))
    assert refused.value.status == 422 and "Contact group is already exists" in str(
        refused.value.body
    )
    lists.contact_list_delete(created.id)


def test_fields_and_contacts(api: ApiClient, sandbox: Any) -> None:
    fields = ContactFieldApi(api)
    city = fields.contact_field_create(
        ContactFieldCreateRequest(name="Town", type=ContactFieldType("text"))
    ).data
    assert city is not None and city.id and city.type == ContactFieldType("text")
    names = [f.name for f in fields.contact_fields().data or []]
    assert names[:3] == ["First Name", "City", "Birthday"] and "Town" in names

    sandbox.account.hlr = HlrModel(delay=0)  # the HLR checks finish at once
    group = ContactListApi(api).contact_list_create(ContactListCreateRequest(name="Promo")).data
    assert group is not None and group.id
    contacts = ContactApi(api)
    made = contacts.contact_create(
        StoreContact(
            phone=380501234567,
            groups=[ContactGroupSchema(id=group.id)],
            fields=[ContactFieldValuePair(id=city.id, value="Kyiv")],
        )
    ).data
    assert made is not None and made.id and made.phone == 380501234567
    assert made.hlr_status is None and made.groups and made.groups[0].id == group.id
    other = contacts.contact_create(StoreContact(phone=380671234567)).data
    assert other is not None and other.id

    for contact_id in (made.id, other.id):  # both shapes of field values
        fetched = contacts.contact(contact_id).data
        assert fetched is not None and fetched.hlr_status in {
            "sent",
            "absent",
            "active",
            "unknown",
            "failed",
        }
        assert fetched.hlr_last_check is not None
    fetched = contacts.contact(made.id).data
    assert fetched is not None and fetched.fields in (
        [{str(city.id): "Kyiv"}],
        [{"id": str(city.id), "value": "Kyiv"}],
    )
    in_list = contacts.contacts(page_offset=0, page_limit=500, groups=[group.id])
    assert in_list.total == 1 and [c.id for c in in_list.data or []] == [made.id]
    assert (in_list.data or [])[0].hlr_status == fetched.hlr_status

    found = contacts.contacts_search(
        search_field="phone", search_operator=SearchOperator("="), search_value="380501234567"
    )
    assert [c.id for c in found.data or []] == [made.id]
    assert contacts.contacts(page_offset=0, page_limit=15).total == 2

    lists = ContactListApi(api)
    lists.contact_list_attach(ContactListAttachRequest(contacts=[other.id], groups=[group.id]))
    assert group.id in [g.id for g in contacts.contact(other.id).data.groups or []]  # type: ignore[union-attr]
    lists.contact_list_detach(ContactListDetachRequest(contacts=[other.id], groups=[group.id]))

    updated = contacts.contact_update(
        made.id,
        ContactUpdateRequest(
            phone=380501234567, fields=[ContactFieldValuePair(id=city.id, value="Lviv")]
        ),
    ).data
    assert updated is not None and updated.phone == 380501234567

    with pytest.raises(ApiException) as refused:
        contacts.contact_create(StoreContact(phone=380501234567))
    assert refused.value.status == 422 and "Phone number is already exist in contact book" in str(
        refused.value.body
    )

    contacts.contact_delete(other.id)
    contacts.contacts_delete(contact_ids=[made.id])
    assert contacts.contacts(page_offset=0, page_limit=15).total == 0
    with pytest.raises(ApiException) as gone:
        contacts.contact(made.id)
    assert gone.value.status == 422 and "Invalid contact id" in str(gone.value.body)
