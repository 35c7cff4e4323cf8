def test_login_then_invoice_page(client, auth, make_invoice):
    make_invoice(number="INV-1", client_name="Müller GmbH")
    assert auth.login().status_code == 302
    response = client.get("/billing/invoices")
    assert response.status_code == 200
    assert "INV-1" in response.get_data(as_text=True)
