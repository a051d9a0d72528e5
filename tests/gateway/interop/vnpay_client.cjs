// Drives the mock gateway with the npm `vnpay` client library, as a merchant would, and
// prints one JSON line of what the library concluded. Loopback only: every host is set.
const { VNPay, ProductCode, VnpLocale } = require('vnpay');

const gateway = process.env.GATEWAY_URL;
const vnpay = new VNPay({
  tmnCode: process.env.TMN_CODE,
  secureSecret: process.env.HASH_SECRET,
  vnpayHost: gateway,
  queryDrAndRefundHost: gateway,
  testMode: false,
  hashAlgorithm: 'SHA512',
});

(async () => {
  const payUrl = vnpay.buildPaymentUrl({
    vnp_Amount: 50000,
    vnp_IpAddr: '127.0.0.1',
    vnp_TxnRef: 'LIB-' + Date.now(),
    vnp_OrderInfo: 'Thanh toan le phi ho so',
    vnp_OrderType: ProductCode.Other,
    vnp_ReturnUrl: 'http://127.0.0.1:9/return',
    vnp_Locale: VnpLocale.VN,
  });
  const page = await fetch(payUrl);
  const number = page.headers.get('x-transaction-no');
  const paid = await fetch(`${gateway}/api/simulate/${number}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ card: '9704198526191432198' }),
  });
  const returned = Object.fromEntries(new URL((await paid.json()).return_url).searchParams);
  const verified = vnpay.verifyReturnUrl(returned);
  const query = await vnpay.queryDr({
    vnp_RequestId: 'q' + Date.now(),
    vnp_IpAddr: '127.0.0.1',
    vnp_TxnRef: returned.vnp_TxnRef,
    vnp_TransactionNo: Number(returned.vnp_TransactionNo),
    vnp_OrderInfo: 'Tra cuu',
    vnp_TransactionDate: Number(returned.vnp_PayDate),
    vnp_CreateDate: Number(returned.vnp_PayDate),
  });
  console.log(JSON.stringify({
    payPage: page.status,
    returnVerified: verified.isVerified,
    returnSuccess: verified.isSuccess,
    queryCode: String(query.vnp_ResponseCode),
    queryStatus: String(query.vnp_TransactionStatus),
    queryVerified: query.isVerified,
  }));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
