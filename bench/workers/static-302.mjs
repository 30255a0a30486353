// (b) The runtime's ceiling: a JS worker answering a static 302.
export default {
  fetch() {
    return new Response(null, {
      status: 302,
      headers: { location: "https://shop.example/landing?click_id=static" },
    });
  },
};
