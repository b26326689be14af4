// Stylesheets imported as text (Vite's ?inline): the widget puts them in its shadow root.
declare module "*.css?inline" {
  const css: string;
  export default css;
}
